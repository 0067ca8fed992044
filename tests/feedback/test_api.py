"""The feedback API: same tenancy, errors and services as the pages."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from cxprogram.tenancy.permissions import Role
from feedback import services
from feedback.models import Batch, Contact, FollowUpCase
from tests.conftest import client_for
from tests.feedback.factories import make_account, make_pm, populate

pytestmark = pytest.mark.django_db

API = "/api/v1/orgs/acme/feedback/"


@pytest.fixture
def pm(org):
    return make_pm(org, email="paula@acme.example")


def test_clients_crud_and_duplicate_name_error(owner_client, org):
    created = owner_client.post(
        API + "clients/", {"name": "Harbor Authority", "tags": ["ports"]}, content_type="application/json"
    )
    assert created.status_code == 201 and created.json()["tags"] == ["ports"]
    again = owner_client.post(API + "clients/", {"name": "harbor authority"}, content_type="application/json")
    assert again.status_code == 400 and "name" in again.json()["error"]["fields"]
    pk = created.json()["id"]
    patched = owner_client.patch(f"{API}clients/{pk}/", {"industry": "Ports"}, content_type="application/json")
    assert patched.status_code == 200 and patched.json()["industry"] == "Ports"
    assert owner_client.get(API + "clients/?q=harbor").json()["count"] == 1


def test_batch_create_send_progress_and_cancel_rules(org, pm, django_capture_on_commit_callbacks, mailoutbox):
    _, people, project = make_account(org, pm, contacts=2)
    api = client_for(pm)
    body = {"projects": [project.pk], "contacts": [c.pk for c in people], "personal_message": "Hi"}
    created = api.post(API + "batches/", body, content_type="application/json")
    assert created.status_code == 201, created.json()
    pk = created.json()["id"]
    past = api.post(
        f"{API}batches/{pk}/schedule/", {"send_at": "2020-01-01T00:00:00Z"}, content_type="application/json"
    )
    assert past.status_code == 400 and "send_at" in past.json()["error"]["fields"]
    with django_capture_on_commit_callbacks(execute=True):
        sent = api.post(f"{API}batches/{pk}/send/")
    assert sent.status_code == 200 and sent.json()["state"] == "sending"  # the workers take it from here
    assert Batch.objects.get(pk=pk).state == "sent"
    assert api.get(f"{API}batches/{pk}/progress/").json() == {
        "total": 2,
        "done": 2,
        "sent": 2,
        "failed": 0,
        "percent": 100,
    }
    assert api.post(f"{API}batches/{pk}/cancel/").status_code == 400
    assert len(mailoutbox) == 2
    assert api.get(API + f"requests/?batch={pk}").json()["count"] == 2
    empty = api.post(API + "batches/", {**body, "contacts": []}, content_type="application/json")
    assert empty.status_code == 400 and Batch.objects.count() == 1


def test_responses_filter_by_score_and_date(owner_client, org, owner, pm):
    populate(org, {"owner": owner, "project_manager": pm})
    today = timezone.localdate().isoformat()
    assert owner_client.get(API + "responses/?score_max=6").json()["count"] == 1
    assert owner_client.get(API + "responses/?score_min=7").json()["count"] == 0
    assert owner_client.get(API + f"responses/?date_from={today}").json()["count"] == 1
    assert owner_client.get(API + "responses/?date_from=not-a-date").status_code == 400


def test_cases_update_through_the_service(owner_client, org, owner, pm, member):
    populate(org, {"owner": owner, "project_manager": pm})
    case = FollowUpCase.objects.for_org(org).get()
    bad = owner_client.patch(f"{API}cases/{case.pk}/", {"state": "resolved"}, content_type="application/json")
    assert bad.status_code == 400 and "outcome" in bad.json()["error"]["fields"]
    good = owner_client.patch(
        f"{API}cases/{case.pk}/",
        {"state": "resolved", "outcome": "Weekly calls agreed", "root_cause": "communication"},
        content_type="application/json",
    )
    assert good.status_code == 200 and good.json()["closed_at"]
    executive = client_for(member(Role.EXECUTIVE))
    assert executive.get(API + "cases/").status_code == 200
    assert (
        executive.patch(f"{API}cases/{case.pk}/", {"state": "open"}, content_type="application/json").status_code == 403
    )


def test_import_through_the_api_with_report(owner_client, org):
    upload = owner_client.post(
        API + "imports/",
        {"kind": "contacts", "file": SimpleUploadedFile("c.csv", b"client,name,email\nAcme Co,Ann,bad-email\n")},
    )
    assert upload.status_code == 201, upload.json()
    pk = upload.json()["id"]
    checked = owner_client.post(f"{API}imports/{pk}/validate/", {"mapping": {}}, content_type="application/json")
    assert checked.json()["state"] == "invalid"
    assert checked.json()["report"] == [{"row": 2, "errors": ["“bad-email” is not a valid email address."]}]
    assert owner_client.post(f"{API}imports/{pk}/run/").status_code == 400
    assert Contact.objects.for_org(org).count() == 0


def test_staff_cannot_read_the_feedback_api(teammate_client, org):
    assert teammate_client.get(API + "responses/").status_code == 403


def test_templates_list_has_the_default(owner_client, org):
    services.default_template(org)
    [template] = owner_client.get(API + "templates/").json()["results"]
    assert template["is_default"] and template["questions"][0]["kind"] == "nps"
