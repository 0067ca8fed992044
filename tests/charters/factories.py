"""Charter test data: a filled draft, a request out for signature, a charter in force."""

from charters import services
from charters.models import Signer
from cxprogram.tenancy.permissions import Role
from tests.factories import add_member, make_user

CONTENT = {
    "from_text": "Morgan Reyes, Chief Executive Officer",
    "purpose": "We design places where people **thrive**. Listening to each client is how we keep that promise.",
    "cause_for_action": "Two public clients bring most of our revenue. Growing private work steadies the firm.",
    "phases": [
        {"name": "Baseline", "status": "done", "description": "Interviewed forty clients."},
        {"name": "Continuous feedback", "status": "current", "description": "Every project asks, every quarter."},
    ],
    "responsibilities": [{"group": "Project managers", "responsibilities": "Ask for feedback and follow up."}],
    "desired_behaviors": ["Decide as the client would", "Reduce the client's uncertainty"],
    "metrics": [
        {
            "kind": "behavior",
            "name": "Feedback participation",
            "definition": "Share of projects asked",
            "target": "80%",
        },
        {"kind": "business", "name": "Win rate", "definition": "Proposals won / sent", "target": "40%"},
    ],
}

MATRIX_TEXT = {
    "Relating": ["Spend an hour on site with a client's facilities team."],
    "Measuring": ["Tell a client how you will judge the project's success."],
}


def fill(version, actor):
    """Write CONTENT and two matrix prompts into a draft."""
    version = services.save_draft(
        version=version, actor=actor, revision=version.revision, title=version.title, content=CONTENT
    )
    for column in version.matrix["columns"]:
        for text in MATRIX_TEXT.get(column["name"], []):
            version = services.change_matrix(
                version=version, actor=actor, operation="add_behavior", args={"column": column["key"], "text": text}
            )
    return version


def draft_charter(organization, editor, title="Client Experience Charter", kind="program"):
    version = services.create_charter(organization=organization, actor=editor.user, title=title, kind=kind)
    return fill(version, editor.user)


def sign_all(signature_request, method="typed"):
    """Every signer signs, lead first; returns the signers."""
    signers = list(signature_request.signers.select_related("membership__user").order_by("position"))
    for signer in signers:
        signer.refresh_from_db()
        services.sign(
            signer=signer,
            user=signer.membership.user,
            consent=True,
            method=method,
            typed_name=signer.membership.user.display_name,
            strokes=[[[10, 10], [120, 80], [200, 40]]],
        )
    return signers


def populate(organization, people):
    """One row of every charters tenant model."""
    owner = people["owner"]
    lead = people["executive"]
    supporter = add_member(organization, [Role.EXECUTIVE], user=make_user(name="Populated Supporter"))
    services.update_settings(organization=organization, actor=owner.user, reminder_interval_days=3, expiry_days=30)
    version = draft_charter(organization, owner)
    signature_request = services.send_for_signature(
        version=version, actor=owner.user, lead=lead, supporters=[supporter]
    )
    sign_all(signature_request)
    charter = version.charter
    charter.refresh_from_db()
    services.acknowledge(charter=charter, membership=people["staff"])
    behavior = charter.in_force_version.matrix["columns"][0]["behaviors"][0]
    services.record_callout(
        charter=charter,
        author=people["staff"],
        kind="kudos",
        note="Walked the site with the client.",
        behavior_key=behavior["key"],
        subject=people["project_manager"],
    )
    services.start_amendment(charter=charter, actor=owner.user)
    assert Signer.objects.for_org(organization).exists()
