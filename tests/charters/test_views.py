import json
from datetime import UTC, datetime

import pytest
from django.urls import reverse

from charters import services
from charters.models import Callout, CharterVersion, Signer
from cxprogram.tenancy.permissions import Role
from tests.conftest import client_for
from tests.factories import PASSWORD

from .factories import CONTENT, draft_charter, sign_all

pytestmark = pytest.mark.django_db


def url(name, org, *args):
    return reverse(f"charters:{name}", args=[org.slug, *args])


def reauthenticate(client, next_url):
    """Answer allauth's password prompt, as a signer does before signing."""
    response = client.post(reverse("account_reauthenticate") + f"?next={next_url}", {"password": PASSWORD})
    assert response.status_code == 302, response.content[:500]
    return response


def editor_post_data(version, **changes):
    """The editor form as the browser posts it, from a version's stored content."""
    content = {**version.content, **changes.pop("content", {})}
    data = {
        "title": changes.pop("title", version.title),
        "revision": changes.pop("revision", version.revision),
        "base": json.dumps({"title": version.title, "content": version.content}),
    }
    for key in (
        "from_text",
        "purpose",
        "cause_for_action",
        "cultural_impact",
        "employee_engagement",
        "client_engagement",
    ):
        data[key] = content.get(key, "")
    data["desired_behaviors"] = "\n".join(content.get("desired_behaviors", []))
    for key, fields in (
        ("phases", ["name", "status", "description"]),
        ("responsibilities", ["group", "responsibilities"]),
        ("metrics", ["key", "kind", "name", "definition", "target"]),
    ):
        rows = content.get(key, [])
        data.update({f"{key}-TOTAL_FORMS": len(rows), f"{key}-INITIAL_FORMS": len(rows)})
        data.update({f"{key}-MIN_NUM_FORMS": 0, f"{key}-MAX_NUM_FORMS": 40})
        for i, row in enumerate(rows):
            data[f"{key}-{i}-ORDER"] = i + 1
            for field in fields:
                data[f"{key}-{i}-{field}"] = row.get(field, "")
    return data


def test_index_lists_charters_and_offers_creation_to_editors_only(org, editor_client, teammate_client, draft):
    response = editor_client.get(url("index", org))
    assert response.status_code == 200
    assert draft.title in response.text and "New charter" in response.text
    response = teammate_client.get(url("index", org))
    assert draft.title in response.text and "New charter" not in response.text
    assert teammate_client.get(url("create", org)).status_code == 403


def test_index_empty_state_says_what_to_do(org, editor_client):
    response = editor_client.get(url("index", org))
    assert "Write the program charter" in response.text


def test_create_starts_a_draft_with_guidance_placeholders(org, editor_client):
    response = editor_client.post(url("create", org), {"title": "Our CX Charter", "kind": "team"})
    version = CharterVersion.objects.get()
    assert response.status_code == 302 and response["Location"] == url("edit", org, version.pk)
    page = editor_client.get(url("edit", org, version.pk)).text
    assert 'placeholder="The team&#x27;s services to the rest of the organization' in page
    assert "Ideal skill sets" in page and "Relating" in page


def test_editor_saves_and_a_stale_save_gets_a_conflict_message(org, editor_client, member, draft):
    stale = editor_post_data(draft, content={"purpose": "Mine"})
    other = client_for(member(Role.ADMIN, user=None))
    response = other.post(url("edit", org, draft.pk), editor_post_data(draft, content={"purpose": "Theirs"}))
    assert response.status_code == 302
    response = editor_client.post(url("edit", org, draft.pk), stale)
    assert response.status_code == 409
    assert "They changed: Purpose." in response.text and "Nothing of yours was saved" in response.text
    assert "Mine" in response.text  # the user's text stays in the form
    draft.refresh_from_db()
    assert draft.content["purpose"] == "Theirs"


def test_editor_reorders_and_removes_rows(org, editor_client, draft):
    data = editor_post_data(draft)
    data["phases-0-ORDER"], data["phases-1-ORDER"] = 2, 1
    data["responsibilities-0-DELETE"] = "on"
    assert editor_client.post(url("edit", org, draft.pk), data).status_code == 302
    draft.refresh_from_db()
    assert [p["name"] for p in draft.content["phases"]] == ["Continuous feedback", "Baseline"]
    assert draft.content["responsibilities"] == []


def test_a_huge_paste_shows_next_to_its_section_and_saves_nothing(org, editor_client, draft):
    response = editor_client.post(
        url("edit", org, draft.pk), editor_post_data(draft, content={"purpose": "y" * 30_000})
    )
    assert response.status_code == 400
    assert "This is 30,000 characters long; the limit is 20,000." in response.text
    draft.refresh_from_db()
    assert draft.content["purpose"] == CONTENT["purpose"]


def test_preview_renders_markdown_without_passing_raw_html(org, editor_client, draft):
    data = editor_post_data(draft, content={"purpose": "**Bold** <script>alert(1)</script> <img src=x onerror=y>"})
    response = editor_client.post(url("preview", org, draft.pk), data)
    assert response.status_code == 200
    assert "<strong>Bold</strong>" in response.text
    assert "<script>" not in response.text and "<img" not in response.text
    assert "&lt;script&gt;" in response.text


def test_the_editor_page_ids_are_unique_so_each_prompt_keeps_its_label(org, editor_client, draft):
    """The live preview shows the matrix beside its editor: a prompt's id must not be used twice, or its
    label ("Prompt 1 in Relating") points at the preview's list item instead of the text box."""
    import re
    from collections import Counter

    column = draft.matrix["columns"][0]
    editor_client.post(
        url("matrix", org, draft.pk), {"op": "add_behavior", "column": column["key"], "text": "Visit the site"}
    )
    draft.refresh_from_db()
    page = editor_client.get(url("edit", org, draft.pk)).text
    preview = editor_client.post(url("preview", org, draft.pk), editor_post_data(draft)).text  # put into the page
    assert "Visit the site" in page and "Prompt 1 in" in page and "Visit the site" in preview
    ids = Counter(re.findall(r'\bid="([^"]+)"', page + preview))
    assert [i for i, n in ids.items() if n > 1] == []


def test_matrix_edit_in_place_returns_the_fragment(org, editor_client, draft):
    column = draft.matrix["columns"][2]
    response = editor_client.post(
        url("matrix", org, draft.pk),
        {"op": "add_behavior", "column": column["key"], "text": "Mentor a graduate on client calls"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200 and response["HX-Trigger"] == "matrix-changed"
    assert 'id="matrix-editor"' in response.text and "Mentor a graduate on client calls" in response.text
    draft.refresh_from_db()
    assert draft.matrix["columns"][2]["behaviors"][0]["text"] == "Mentor a graduate on client calls"
    response = editor_client.post(
        url("matrix", org, draft.pk), {"op": "rename_column", "column": "c-gone", "name": "X"}, HTTP_HX_REQUEST="true"
    )
    assert "no longer in the matrix" in response.text


def test_send_page_freezes_and_mails_the_lead(
    org, editor_client, lead, supporter, draft, smtp_server, django_capture_on_commit_callbacks
):
    assert "Morgan Reyes — CEO" in editor_client.get(url("send", org, draft.pk)).text
    with django_capture_on_commit_callbacks(execute=True):
        response = editor_client.post(url("send", org, draft.pk), {"lead": lead.pk, "supporters": [supporter.pk]})
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.status == "out_for_signature" and len(draft.content_hash) == 64
    signer = Signer.objects.get(membership=lead)
    (mail,) = smtp_server.to(lead.user.email)
    assert "http://127.0.0.1:8000" + url("sign", org, signer.pk) in mail.get_body(("plain",)).get_content()


def test_sending_an_empty_draft_shows_a_clear_message(org, editor, editor_client, lead):
    version = services.create_charter(organization=org, actor=editor.user, title="Blank", kind="program")
    response = editor_client.post(url("send", org, version.pk), {"lead": lead.pk})
    assert response.status_code == 200 and "This draft is empty" in response.text
    version.refresh_from_db()
    assert version.status == "draft"


def test_signing_asks_for_the_password_then_records_the_signature(org, editor, lead, lead_client, supporter, draft):
    signature_request = services.send_for_signature(version=draft, actor=editor.user, lead=lead, supporters=[supporter])
    signer = signature_request.signers.get(membership=lead)
    sign_url = url("sign", org, signer.pk)
    response = lead_client.get(sign_url)
    assert response.status_code == 302 and response["Location"].startswith(reverse("account_reauthenticate"))
    reauthenticate(lead_client, sign_url)
    page = lead_client.get(sign_url)
    assert page.status_code == 200
    assert draft.content_hash in page.text and "electronically" in page.text
    assert 'id="signature-canvas"' in page.text
    response = lead_client.post(sign_url, {"method": "typed", "typed_name": "Morgan Reyes", "consent": "on"})
    assert response.status_code == 302
    signer.refresh_from_db()
    assert signer.status == "signed" and signer.ip_address == "127.0.0.1"
    assert lead_client.get(sign_url).status_code == 200  # "you have signed already"
    assert "You have signed this version already." in lead_client.get(sign_url).text


def test_sign_form_errors_show_inline(org, editor, lead, lead_client, draft):
    signature_request = services.send_for_signature(version=draft, actor=editor.user, lead=lead, supporters=[])
    sign_url = url("sign", org, signature_request.signers.get().pk)
    lead_client.get(sign_url)
    reauthenticate(lead_client, sign_url)
    response = lead_client.post(sign_url, {"method": "drawn", "strokes": "[]", "consent": "on"})
    assert response.status_code == 400 and "Draw your signature in the box first (it is empty)." in response.text
    response = lead_client.post(sign_url, {"method": "typed", "typed_name": "Morgan Reyes"})
    assert "Tick the box to agree to sign electronically." in response.text
    assert Signer.objects.get().status == "pending"


def test_a_member_who_was_not_asked_gets_403(org, editor, lead, supporter, draft):
    signature_request = services.send_for_signature(version=draft, actor=editor.user, lead=lead, supporters=[])
    signer = signature_request.signers.get()
    other = client_for(supporter)
    assert other.get(url("sign", org, signer.pk)).status_code == 403
    assert (
        other.post(url("sign", org, signer.pk), {"method": "typed", "typed_name": "X", "consent": "on"}).status_code
        == 403
    )
    assert other.post(url("decline", org, signer.pk), {"reason": "no"}).status_code == 403
    assert Signer.objects.get().status == "pending"


def test_signing_a_voided_request_says_so(org, editor, lead, lead_client, draft):
    signature_request = services.send_for_signature(version=draft, actor=editor.user, lead=lead, supporters=[])
    services.void(signature_request=signature_request, actor=editor.user, reason="Wrong version")
    signer = signature_request.signers.get()
    response = lead_client.post(url("sign", org, signer.pk), {"method": "typed", "typed_name": "M", "consent": "on"})
    assert response.status_code == 409 and "voided" in response.text and "Wrong version" in response.text


def test_decline_from_the_signing_page(org, editor, lead, lead_client, draft):
    signature_request = services.send_for_signature(version=draft, actor=editor.user, lead=lead, supporters=[])
    signer = signature_request.signers.get()
    response = lead_client.post(url("decline", org, signer.pk), {"reason": "Targets are missing."})
    assert response.status_code == 302
    signer.refresh_from_db()
    assert signer.status == "declined" and signer.decline_reason == "Targets are missing."
    assert CharterVersion.objects.get(charter=draft.charter, number=2).is_draft


def test_void_needs_the_edit_permission_and_a_reason(org, editor_client, lead_client, editor, lead, draft):
    signature_request = services.send_for_signature(version=draft, actor=editor.user, lead=lead, supporters=[])
    void_url = url("void", org, signature_request.pk)
    assert client_for_staff(org).post(void_url, {"reason": "x"}).status_code == 403
    editor_client.post(void_url, {"reason": ""})
    signature_request.refresh_from_db()
    assert signature_request.status == "pending"
    response = editor_client.post(void_url, {"reason": "Wrong lead"})
    signature_request.refresh_from_db()
    assert signature_request.status == "voided" and response.status_code == 302


def client_for_staff(org):
    from tests.factories import add_member

    return client_for(add_member(org, [Role.STAFF]))


def in_force(org, editor, lead, supporter):
    version = draft_charter(org, editor)
    sign_all(services.send_for_signature(version=version, actor=editor.user, lead=lead, supporters=[supporter]))
    version.refresh_from_db()
    version.charter.refresh_from_db()
    return version


def test_published_page_shows_the_lead_on_top_and_supporters_below(org, editor, lead, supporter, teammate_client):
    version = in_force(org, editor, lead, supporter)
    page = teammate_client.get(url("detail", org, version.charter_id)).text
    lead_at = page.index('data-testid="lead-signature"')
    purpose_at = page.index("Purpose")
    supporters_at = page.index('data-testid="supporter-signatures"')
    assert lead_at < purpose_at < supporters_at
    assert page.index("Morgan Reyes", lead_at) < purpose_at
    assert page.index("Priya Natarajan", supporters_at) > supporters_at
    assert "I have read this and will act on it" in page


def test_a_charter_signed_by_the_lead_alone_shows_no_empty_supporters_section(org, editor, lead, teammate_client):
    version = draft_charter(org, editor)
    sign_all(services.send_for_signature(version=version, actor=editor.user, lead=lead, supporters=[]))
    page = teammate_client.get(url("detail", org, version.charter_id)).text
    assert 'data-testid="lead-signature"' in page and "Morgan Reyes" in page
    assert "Supported by" not in page and 'data-testid="supporter-signatures"' not in page


def test_charter_page_queries_do_not_grow_with_data(
    org, editor, lead, supporter, teammate, teammate_client, member, django_assert_max_num_queries
):
    version = in_force(org, editor, lead, supporter)
    charter = version.charter
    behavior = version.matrix["columns"][0]["behaviors"][0]
    for _ in range(15):
        m = member(Role.STAFF)
        services.acknowledge(charter=charter, membership=m)
        services.record_callout(
            charter=charter, author=m, kind="kudos", note="Well done", behavior_key=behavior["key"], subject=teammate
        )
    teammate_client.get(url("detail", org, charter.pk))  # the first view is recorded once
    with django_assert_max_num_queries(30):
        response = teammate_client.get(url("detail", org, charter.pk))
    assert response.status_code == 200 and response.text.count("Well done") == 10


def test_acknowledge_and_call_out_from_the_charter_page(org, editor, lead, supporter, teammate, teammate_client):
    version = in_force(org, editor, lead, supporter)
    charter = version.charter
    assert teammate_client.post(url("acknowledge", org, charter.pk)).status_code == 302
    page = teammate_client.get(url("detail", org, charter.pk)).text
    assert "Acknowledged" in page
    behavior = version.matrix["columns"][5]["behaviors"][0]
    response = teammate_client.post(
        url("callout", org, charter.pk),
        {"kind": "kudos", "behavior": behavior["key"], "note": "Explained our success measures", "subject": lead.pk},
    )
    assert response.status_code == 302
    callout = Callout.objects.get()
    assert callout.column_name == "Measuring" and callout.subject == lead
    response = teammate_client.post(url("callout", org, charter.pk), {"kind": "kudos", "note": "No behavior"})
    assert response.status_code == 400 and "Choose the behavior from the matrix" in response.text


def test_history_diff_and_verify_pages(org, editor, editor_client, lead, supporter):
    version = in_force(org, editor, lead, supporter)
    amendment = services.start_amendment(charter=version.charter, actor=editor.user)
    services.save_draft(
        version=amendment,
        actor=editor.user,
        revision=amendment.revision,
        title=amendment.title,
        content={**amendment.content, "purpose": "A sharper purpose."},
    )
    history = editor_client.get(url("history", org, version.charter_id)).text
    assert "Version 2" in history and version.content_hash[:16] in history
    # The trail in words: "Amendment started — Purpose", not "amended"
    assert "Amendment started" in history and "Draft edited — Purpose" in history
    assert ">amended<" not in history and ">edited" not in history
    diff = editor_client.get(url("diff", org, version.charter_id) + f"?a={version.pk}&b={amendment.pk}").text
    assert diff.count('badge-warning">Changed') == 1
    assert "A sharper purpose." in diff and "Cause for action" in diff
    assert editor_client.get(url("diff", org, version.charter_id) + "?a=oops&b=").status_code == 200
    verify = editor_client.get(url("verify", org, version.pk)).text
    assert "Intact" in verify and version.content_hash in verify


def test_the_home_page_dates_a_signature_request_in_the_organizations_time_zone(org, editor, lead, supporter):
    org.time_zone = "America/Los_Angeles"
    org.save()
    version = draft_charter(org, editor)
    signature_request = services.send_for_signature(
        version=version, actor=editor.user, lead=lead, supporters=[supporter]
    )
    # 03:00 UTC on 10 March is the evening of 9 March in Los Angeles.
    Signer.objects.filter(request=signature_request).update(asked_at=datetime(2026, 3, 10, 3, 0, tzinfo=UTC))
    type(signature_request).objects.filter(pk=signature_request.pk).update(
        expires_at=datetime(2030, 4, 1, 2, 0, tzinfo=UTC)
    )

    page = client_for(lead).get(reverse("org_home", args=[org.slug])).text

    assert "Version 1, asked 9 Mar. The request expires on 31 Mar 2030." in page


def test_home_page_asks_the_lead_to_sign_and_members_to_acknowledge(org, editor, lead, supporter, teammate_client):
    version = draft_charter(org, editor)
    signature_request = services.send_for_signature(
        version=version, actor=editor.user, lead=lead, supporters=[supporter]
    )
    home = reverse("org_home", args=[org.slug])
    page = client_for(lead).get(home).text
    assert "Charter awaiting your signature: Client Experience Charter" in page
    assert url("sign", org, signature_request.signers.get(membership=lead).pk) in page
    assert "awaiting your signature" not in client_for(supporter).get(home).text  # asked after the lead
    sign_all(signature_request)
    assert "Acknowledge the charter: Client Experience Charter" in teammate_client.get(home).text
    version.charter.refresh_from_db()
    services.acknowledge(charter=version.charter, membership=lead)
    assert "Acknowledge the charter" not in client_for(lead).get(home).text


def test_signing_settings_are_for_editors(org, editor_client, teammate_client):
    assert teammate_client.get(url("settings", org)).status_code == 403
    response = editor_client.post(url("settings", org), {"reminder_interval_days": 0, "expiry_days": 30})
    assert response.status_code == 200 and "Choose between 1 and 30 days." in response.text
    response = editor_client.post(url("settings", org), {"reminder_interval_days": 5, "expiry_days": 14})
    assert response.status_code == 302
    assert services.settings_for(org).reminder_interval_days == 5


def test_index_queries_do_not_grow_with_charters(org, editor, editor_client, django_assert_max_num_queries):
    for i in range(8):
        services.create_charter(organization=org, actor=editor.user, title=f"Charter {i}", kind="team")
    with django_assert_max_num_queries(15):
        response = editor_client.get(url("index", org) + "?sort=title&kind=team")
    assert response.text.count("Charter ") >= 8 and response.status_code == 200


def test_delete_a_charter_from_the_editor(org, editor_client, teammate_client, draft):
    assert teammate_client.post(url("delete", org, draft.charter_id)).status_code == 403
    assert "Delete charter" in editor_client.get(url("edit", org, draft.pk)).text
    response = editor_client.post(url("delete", org, draft.charter_id))
    assert response.status_code == 302 and not CharterVersion.objects.exists()
