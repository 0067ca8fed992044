import csv
import io
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from cxprogram.audit.models import AuditEvent
from cxprogram.audit.services import record
from cxprogram.tenancy import services

pytestmark = pytest.mark.django_db


def test_record_writes_inside_the_transaction(org, owner):
    with transaction.atomic():
        record(organization=org, actor=owner.user, verb="x.done")
    assert AuditEvent.objects.filter(verb="x.done").count() == 1


def test_the_event_rolls_back_with_the_change(org, owner):
    with pytest.raises(RuntimeError), transaction.atomic():
        services.save_unit(organization=org, actor=owner.user, name="Ops")
        raise RuntimeError("the change fails after the audit event was written")
    assert not AuditEvent.objects.filter(verb="unit.created").exists()


def test_admin_filters_by_actor_verb_and_date(owner_client, org, owner, teammate):
    services.save_unit(organization=org, actor=owner.user, name="Ops")
    old = services.save_unit(organization=org, actor=owner.user, name="Old")
    AuditEvent.objects.filter(target_id=str(old.pk)).update(created_at=timezone.now() - timedelta(days=40))
    record_as_teammate = AuditEvent.objects.create(
        organization=org, actor=teammate.user, verb="unit.created", actor_label="Theo Teammate", target_label="Sales"
    )
    page = owner_client.get(f"/o/{org.slug}/audit/", {"verb": "unit.created", "actor": owner.pk})
    labels = [e.target_label for e in page.context["page"].object_list]
    assert labels == ["Ops", "Old"]
    since = (timezone.now() - timedelta(days=7)).date().isoformat()
    recent = owner_client.get(f"/o/{org.slug}/audit/", {"verb": "unit.created", "date_from": since})
    assert {e.target_label for e in recent.context["page"].object_list} == {"Ops", record_as_teammate.target_label}


def test_the_log_shows_every_payload_even_one_with_a_key_named_items(owner_client, org, owner):
    # A ranking round opened, or a change board agenda mailed: the log page was a 500 for any organization
    # that had done either (the template's payload.items read the "items" key).
    AuditEvent.objects.create(
        organization=org, actor=owner.user, verb="board.agenda_mailed", payload={"items": 3, "to": 5}
    )

    page = owner_client.get(f"/o/{org.slug}/audit/")

    assert page.status_code == 200 and "items: 3; to: 5" in page.content.decode()


def test_audit_log_is_paginated(owner_client, org, owner):
    AuditEvent.objects.bulk_create(
        [AuditEvent(organization=org, actor=owner.user, verb="bulk.thing", target_label=f"T{i}") for i in range(120)]
    )
    page = owner_client.get(f"/o/{org.slug}/audit/")
    assert len(page.context["page"].object_list) == 50
    assert "Page 1 of 3" in page.content.decode()


def test_staff_cannot_see_the_audit_log(teammate_client, org):
    assert teammate_client.get(f"/o/{org.slug}/audit/").status_code == 403
    assert teammate_client.get(f"/o/{org.slug}/audit/export.csv").status_code == 403


def test_csv_export_escapes_formulas(owner_client, org, owner):
    for dangerous in ['=HYPERLINK("http://evil")', "+1+1", "-2", "@SUM(A1)", "\tTab", "\rCR", "Plain"]:
        AuditEvent.objects.create(
            organization=org, actor=owner.user, verb="unit.created", target_label=dangerous, actor_label="Olivia Owner"
        )
    response = owner_client.get(f"/o/{org.slug}/audit/export.csv", {"verb": "unit.created"})
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    targets = sorted(r["target"] for r in rows)
    assert targets == sorted(['\'=HYPERLINK("http://evil")', "'+1+1", "'-2", "'@SUM(A1)", "'\tTab", "'\rCR", "Plain"])


def test_export_holds_only_this_organization(owner_client, org, owner, outsider):
    with transaction.atomic():
        record(organization=outsider.organization, actor=outsider.user, verb="secret.thing")
    body = b"".join(owner_client.get(f"/o/{org.slug}/audit/export.csv").streaming_content).decode()
    assert "secret.thing" not in body
