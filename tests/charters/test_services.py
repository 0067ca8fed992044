import json
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from charters import content as doc
from charters import services
from charters.models import CharterEvent, CharterVersion, SignatureRequest, Signer
from cxprogram.audit.models import AuditEvent
from cxprogram.tenancy.permissions import Role
from tests.fixtures.mail import Mailbox

from .factories import CONTENT, sign_all

pytestmark = pytest.mark.django_db


def send(version, editor, lead, supporters=()):
    return services.send_for_signature(version=version, actor=editor.user, lead=lead, supporters=list(supporters))


def signer_of(signature_request, membership) -> Signer:
    return signature_request.signers.get(membership=membership)


def sign_typed(signer, user=None, **extra):
    return services.sign(
        signer=signer,
        user=user or signer.membership.user,
        consent=extra.pop("consent", True),
        method="typed",
        typed_name=extra.pop("typed_name", "Morgan Reyes"),
        **extra,
    )


def test_new_charter_starts_from_the_template_of_its_kind(org, editor):
    program = services.create_charter(organization=org, actor=editor.user, title="Program", kind="program")
    team = services.create_charter(organization=org, actor=editor.user, title="CX CoE", kind="team")
    assert [c["name"] for c in program.matrix["columns"]] == doc.DEFAULT_COLUMNS
    assert "what_we_do" not in program.content and program.content["purpose"] == ""
    assert {"what_we_do", "what_we_dont_do", "success_criteria", "skill_sets"} <= set(team.content)
    assert all(c["behaviors"] == [] for c in team.matrix["columns"])


def test_sending_freezes_the_version_with_the_hash_of_its_canonical_json(org, editor, lead, draft):
    signature_request = send(draft, editor, lead)
    draft.refresh_from_db()
    assert draft.status == "out_for_signature" and draft.frozen_at
    canonical = json.dumps(
        {
            "organization": org.pk,
            "document": f"charter-{draft.charter_id}",
            "kind": "program",
            "version": 1,
            "title": draft.title,
            "sections": draft.content,
            "matrix": draft.matrix,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    ).encode()
    import hashlib

    assert draft.content_hash == hashlib.sha256(canonical).hexdigest()
    assert signature_request.expires_at - signature_request.sent_at == timedelta(days=30)
    assert CharterEvent.objects.filter(version=draft, verb="sent").exists()
    assert AuditEvent.objects.filter(organization=org, verb="charter.sent").exists()


def test_a_frozen_version_refuses_changes_in_the_service_and_the_model(editor, lead, draft):
    send(draft, editor, lead)
    draft.refresh_from_db()
    with pytest.raises(ValidationError, match="can no longer change"):
        services.save_draft(
            version=draft, actor=editor.user, revision=draft.revision, title="New title", content=CONTENT
        )
    with pytest.raises(ValidationError, match="can no longer change"):
        services.change_matrix(version=draft, actor=editor.user, operation="add_column", args={"name": "Listening"})
    draft.content = {**draft.content, "purpose": "Rewritten"}
    with pytest.raises(ValidationError, match="can no longer change"):
        draft.save()
    draft.refresh_from_db()
    assert draft.content["purpose"] == CONTENT["purpose"]


@pytest.mark.postgres
def test_postgres_trigger_refuses_raw_update_and_verify_detects_a_forced_one(editor, lead, supporter, draft):
    signature_request = send(draft, editor, lead, [supporter])
    sign_all(signature_request)
    with pytest.raises(DatabaseError, match="frozen"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE charters_charterversion SET title = 'Forged' WHERE id = %s", [draft.pk])
    # A database superuser can still switch triggers off: verification catches what follows.
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(
            "UPDATE charters_charterversion SET content = jsonb_set(content, '{purpose}', '\"Forged\"') WHERE id = %s",
            [draft.pk],
        )
        cursor.execute("SET LOCAL session_replication_role = origin")
    draft.refresh_from_db()
    assert services.verify(draft)["status"] == "altered"


def test_verify_says_intact_then_altered_after_a_raw_sql_change(settings, editor, lead, draft):
    send(draft, editor, lead)
    draft.refresh_from_db()
    assert services.verify(draft) == {
        "status": "intact",
        "intact": True,
        "stored_hash": draft.content_hash,
        "computed_hash": draft.content_hash,
    }
    with connection.cursor() as cursor:
        if settings.IS_POSTGRES:
            cursor.execute("SET LOCAL session_replication_role = replica")  # bypass the trigger, as a DBA could
        cursor.execute("UPDATE charters_charterversion SET title = %s WHERE id = %s", ["Forged title", draft.pk])
        if settings.IS_POSTGRES:
            cursor.execute("SET LOCAL session_replication_role = origin")
    draft.refresh_from_db()
    result = services.verify(draft)
    assert result["status"] == "altered" and result["intact"] is False
    assert result["computed_hash"] != result["stored_hash"] == draft.content_hash


def test_an_empty_draft_cannot_be_sent(org, editor, lead):
    version = services.create_charter(organization=org, actor=editor.user, title="Empty", kind="program")
    with pytest.raises(ValidationError, match="This draft is empty"):
        send(version, editor, lead)
    version.refresh_from_db()
    assert version.status == "draft" and not version.frozen_at
    assert not SignatureRequest.objects.exists()


def test_signers_must_be_executives(editor, member, draft):
    staff = member(Role.STAFF)
    with pytest.raises(ValidationError) as error:
        send(draft, editor, staff)
    assert "not an executive" in str(error.value)
    draft.refresh_from_db()
    assert draft.status == "draft"


def test_the_lead_signs_first_then_supporters_in_any_order(org, editor, lead, supporter, supporter2, draft):
    signature_request = send(draft, editor, lead, [supporter, supporter2])
    second = signer_of(signature_request, supporter2)
    assert second.status == "waiting"
    with pytest.raises(ValidationError, match="The lead executive signs first"):
        sign_typed(second, typed_name="Daniel Okafor")
    sign_typed(signer_of(signature_request, lead))
    second.refresh_from_db()
    assert second.status == "pending" and second.asked_at
    sign_typed(second, typed_name="Daniel Okafor")  # the second supporter before the first
    draft.refresh_from_db()
    assert draft.status == "out_for_signature"
    sign_typed(signer_of(signature_request, supporter), typed_name="Priya Natarajan")
    draft.refresh_from_db()
    draft.charter.refresh_from_db()
    assert draft.status == "in_force" and draft.published_at
    assert draft.charter.in_force_version == draft
    assert draft.acknowledgments.count() == 4  # one per active member: editor, lead, two supporters
    assert CharterEvent.objects.filter(version=draft, verb="completed").count() == 1


def test_signing_records_who_when_where_what_and_the_signature(rf, editor, lead, draft):
    signature_request = send(draft, editor, lead)
    request = rf.post("/", HTTP_USER_AGENT="TestBrowser/1.0", REMOTE_ADDR="203.0.113.9")
    signer = services.sign(
        signer=signer_of(signature_request, lead),
        user=lead.user,
        consent=True,
        method="drawn",
        strokes=json.dumps([[[10, 20], [100, 120], [300, 60]], [[320, 50], [400, 150]]]),
        request=request,
    )
    draft.refresh_from_db()
    assert signer.status == "signed" and signer.signed_at
    assert signer.ip_address == "203.0.113.9" and signer.user_agent == "TestBrowser/1.0"
    assert signer.version_hash == draft.content_hash
    assert draft.content_hash in signer.consent_text and "electronically" in signer.consent_text
    assert (
        signer.signature_svg.startswith("<svg")
        and 'd="M10.0 20.0L100.0 120.0L300.0 60.0 M320.0 50.0L400.0 150.0"' in signer.signature_svg
    )
    assert signer.signer_name == "Morgan Reyes" and signer.signer_title == "CEO"
    assert list(CharterEvent.objects.filter(version=draft).values_list("verb", flat=True)) == [
        "created",
        "edited",
        "matrix_edited",
        "matrix_edited",
        "sent",
        "consented",
        "signed",
        "completed",
    ]


def test_signing_twice_keeps_one_signature(editor, lead, supporter, draft):
    signature_request = send(draft, editor, lead, [supporter])
    signer = signer_of(signature_request, lead)
    first = sign_typed(signer)
    again = sign_typed(signer, typed_name="Someone Else")
    assert again.signed_at == first.signed_at and again.typed_name == "Morgan Reyes"
    assert CharterEvent.objects.filter(verb="signed").count() == 1


def test_only_the_requested_signer_can_sign(editor, lead, supporter, draft):
    signature_request = send(draft, editor, lead)
    with pytest.raises(PermissionDenied):
        sign_typed(signer_of(signature_request, lead), user=supporter.user)
    assert signer_of(signature_request, lead).status == "pending"


def test_consent_is_required(editor, lead, draft):
    signature_request = send(draft, editor, lead)
    with pytest.raises(ValidationError) as error:
        sign_typed(signer_of(signature_request, lead), consent=False)
    assert error.value.message_dict == {"consent": ["Tick the box to agree to sign electronically."]}


@pytest.mark.parametrize("strokes", ["[]", "[[[5, 5]]]", "[[[5, 5], [6, 6]]]", "not json", '[[["x", 1], [2, 3]]]'])
def test_an_empty_or_unreadable_drawing_is_refused(editor, lead, draft, strokes):
    signature_request = send(draft, editor, lead)
    signer = signer_of(signature_request, lead)
    with pytest.raises(ValidationError) as error:
        services.sign(signer=signer, user=lead.user, consent=True, method="drawn", strokes=strokes)
    assert "strokes" in error.value.message_dict
    signer.refresh_from_db()
    assert signer.status == "pending" and not signer.signature_svg


def test_an_expired_request_cannot_be_signed_and_the_sweep_reopens_a_draft(editor, lead, draft):
    signature_request = send(draft, editor, lead)
    SignatureRequest.objects.filter(pk=signature_request.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    signer = signer_of(signature_request, lead)
    with pytest.raises(ValidationError, match="expired"):
        sign_typed(signer)
    from charters.tasks import sweep

    assert sweep()["expired"] == 1
    assert sweep()["expired"] == 0  # once
    draft.refresh_from_db()
    assert draft.status == "expired"
    new = CharterVersion.objects.get(charter=draft.charter, number=2)
    assert new.status == "draft" and new.content == draft.content and new.matrix == draft.matrix
    signer.refresh_from_db()
    assert signer.status == "cancelled"


def test_a_voided_request_cannot_be_signed(editor, lead, draft):
    signature_request = send(draft, editor, lead)
    new = services.void(signature_request=signature_request, actor=editor.user, reason="Wrong lead")
    assert new.number == 2 and new.status == "draft"
    signer = signer_of(signature_request, lead)
    with pytest.raises(ValidationError, match="voided .*Wrong lead"):
        sign_typed(signer)
    with pytest.raises(ValidationError, match="only a pending one"):
        services.void(signature_request=signature_request, actor=editor.user, reason="Again")
    draft.refresh_from_db()
    assert draft.status == "voided"


def test_decline_stops_the_request_mails_the_editors_and_reopens_a_draft(
    org, owner, editor, lead, supporter, draft, smtp_server, django_capture_on_commit_callbacks
):
    signature_request = send(draft, editor, lead, [supporter])
    with django_capture_on_commit_callbacks(execute=True):
        new = services.decline(
            signer=signer_of(signature_request, lead), user=lead.user, reason="The metrics need targets."
        )
    signature_request.refresh_from_db()
    assert signature_request.status == "declined"
    assert signer_of(signature_request, supporter).status == "cancelled"
    assert new.number == 2 and new.is_draft
    recipients = {r for m in smtp_server.messages for r in m["to"]}
    # Editors are admins, executives and the CX CoE.
    assert recipients == {owner.user.email, editor.user.email, lead.user.email, supporter.user.email}
    message = smtp_server.to(editor.user.email)[0]
    assert message["Subject"] == f"Morgan Reyes declined to sign {draft.title}"
    assert "The metrics need targets." in Mailbox.text(message)


def test_saving_on_a_stale_revision_is_a_conflict_that_names_the_changes(org, editor, member, draft):
    other = member(Role.ADMIN)
    loaded = CharterVersion.objects.get(pk=draft.pk)
    base = {"title": loaded.title, "content": loaded.content}
    services.save_draft(
        version=draft,
        actor=other.user,
        revision=draft.revision,
        title=draft.title,
        content={**draft.content, "purpose": "Theirs", "desired_behaviors": ["Listen first"]},
    )
    with pytest.raises(services.DraftConflict) as error:
        services.save_draft(
            version=loaded,
            actor=editor.user,
            revision=loaded.revision,
            title=loaded.title,
            content={**loaded.content, "cultural_impact": "Mine"},
            base=base,
        )
    assert error.value.changed == ["Purpose", "Desired behaviors"]
    assert other.user.display_name in error.value.messages[0]
    assert "Nothing of yours was saved" in error.value.messages[0]
    draft.refresh_from_db()
    assert draft.content["purpose"] == "Theirs" and draft.content["cultural_impact"] == ""


def test_a_huge_paste_is_refused_with_its_size_and_the_limit(editor, draft):
    with pytest.raises(ValidationError) as error:
        services.save_draft(
            version=draft,
            actor=editor.user,
            revision=draft.revision,
            title=draft.title,
            content={**draft.content, "purpose": "x" * 25_000},
        )
    assert error.value.message_dict["purpose"] == [
        "This is 25,000 characters long; the limit is 20,000. Shorten it, or link to a longer document."
    ]
    draft.refresh_from_db()
    assert draft.content["purpose"] == CONTENT["purpose"]


def test_matrix_edits_keep_keys_and_refuse_overwriting_someone_elses_rewording(editor, draft):
    column = draft.matrix["columns"][0]
    behavior = column["behaviors"][0]
    services.change_matrix(
        version=draft,
        actor=editor.user,
        operation="edit_behavior",
        args={"behavior": behavior["key"], "text": "Theirs", "previous": behavior["text"]},
    )
    with pytest.raises(ValidationError, match="changed this to “Theirs”"):
        services.change_matrix(
            version=draft,
            actor=editor.user,
            operation="edit_behavior",
            args={"behavior": behavior["key"], "text": "Mine", "previous": behavior["text"]},
        )
    version = services.change_matrix(
        version=draft, actor=editor.user, operation="move_column", args={"column": column["key"], "direction": "right"}
    )
    assert [c["key"] for c in version.matrix["columns"]][1] == column["key"]
    assert version.matrix["columns"][1]["behaviors"] == [{"key": behavior["key"], "text": "Theirs"}]


def test_amendment_keeps_the_signed_version_in_force_until_it_is_signed(editor, lead, draft):
    sign_all(send(draft, editor, lead))
    charter = draft.charter
    charter.refresh_from_db()
    amendment = services.start_amendment(charter=charter, actor=editor.user)
    with pytest.raises(ValidationError, match="edit it instead"):
        services.start_amendment(charter=charter, actor=editor.user)
    amendment = services.save_draft(
        version=amendment,
        actor=editor.user,
        revision=amendment.revision,
        title=amendment.title,
        content={**amendment.content, "purpose": "Amended purpose"},
    )
    charter.refresh_from_db()
    assert charter.in_force_version == draft
    sign_all(send(amendment, editor, lead))
    charter.refresh_from_db()
    draft.refresh_from_db()
    assert charter.in_force_version == amendment and draft.status == "superseded"
    assert services.verify(draft)["intact"] is True


def test_reminders_follow_the_interval_and_stop_after_signing(
    org, editor, lead, supporter, draft, smtp_server, django_capture_on_commit_callbacks
):
    from charters.tasks import sweep

    services.update_settings(organization=org, actor=editor.user, reminder_interval_days=2, expiry_days=30)
    with django_capture_on_commit_callbacks(execute=True):
        signature_request = send(draft, editor, lead, [supporter])
    assert len(smtp_server.to(lead.user.email)) == 1  # the request
    signer = signer_of(signature_request, lead)
    assert signer.next_reminder_at - signer.asked_at == timedelta(days=2)
    assert sweep()["reminded"] == 0
    Signer.objects.filter(pk=signer.pk).update(next_reminder_at=timezone.now() - timedelta(seconds=1))
    assert sweep()["reminded"] == 1
    assert sweep()["reminded"] == 0  # the next one is two days away
    mails = smtp_server.to(lead.user.email)
    assert len(mails) == 2 and mails[1]["Subject"].startswith("Reminder")
    signer.refresh_from_db()
    assert signer.reminders_sent == 1 and timezone.now() + timedelta(days=2) - signer.next_reminder_at < timedelta(
        minutes=1
    )
    assert smtp_server.to(supporter.user.email) == []  # asked only after the lead signs
    with django_capture_on_commit_callbacks(execute=True):
        sign_typed(signer)
    assert len(smtp_server.to(supporter.user.email)) == 1
    signer.refresh_from_db()
    assert signer.next_reminder_at is None


def test_in_force_mail_to_every_member_and_one_acknowledgment_reminder(
    org, owner, teammate, editor, lead, draft, smtp_server, django_capture_on_commit_callbacks
):
    from charters.models import Acknowledgment
    from charters.tasks import sweep

    signature_request = send(draft, editor, lead)
    with django_capture_on_commit_callbacks(execute=True):
        sign_all(signature_request)
    told = {m["to"][0] for m in smtp_server.messages if m["message"]["Subject"].startswith("Now in force")}
    assert told == {owner.user.email, teammate.user.email, editor.user.email, lead.user.email}
    charter = draft.charter
    charter.refresh_from_db()
    services.acknowledge(charter=charter, membership=owner)
    services.acknowledge(charter=charter, membership=owner)  # twice is once
    assert CharterEvent.objects.filter(verb="acknowledged").count() == 1
    Acknowledgment.objects.update(notified_at=timezone.now() - timedelta(days=7, minutes=1))
    assert sweep()["ack_reminders"] == 3
    assert sweep()["ack_reminders"] == 0
    reminded = {m["to"][0] for m in smtp_server.messages if m["message"]["Subject"].startswith("Have you read")}
    assert reminded == {teammate.user.email, editor.user.email, lead.user.email}


def test_an_amendments_new_title_shows_only_once_it_is_in_force(editor, lead, draft):
    sign_all(send(draft, editor, lead))
    charter = draft.charter
    charter.refresh_from_db()
    amendment = services.start_amendment(charter=charter, actor=editor.user)
    services.save_draft(
        version=amendment, actor=editor.user, revision=amendment.revision, title="Renamed", content=amendment.content
    )
    charter.refresh_from_db()
    assert charter.title == "Client Experience Charter"
    amendment.refresh_from_db()
    sign_all(send(amendment, editor, lead))
    charter.refresh_from_db()
    assert charter.title == "Renamed"
