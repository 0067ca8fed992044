"""The feedback API: same tenancy, errors and services as the pages."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from cxprogram.accounts.services import create_api_token
from cxprogram.audit.models import AuditEvent
from cxprogram.tenancy.permissions import Role
from feedback import services
from feedback.models import Batch, Contact, FollowUpCase, Response, SurveyRequest
from tests.conftest import client_for
from tests.feedback.factories import answer_survey, make_account, make_pm, populate

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
        "responses": 0,
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


# --- The promoter thank-you ------------------------------------------------------------------------------

THANKS = "Thank you from Acme Consulting"


def answered(org, pm, score) -> Response:
    """A contact on a project managed by `pm` answers the survey with `score`, through the real services."""
    _, [contact], project = make_account(org, pm, contacts=1)
    batch = services.create_batch(organization=org, actor=pm.user, sender=pm, projects=[project], contacts=[contact])
    services.start_batch(batch=batch, from_states=["draft"])
    services.dispatch_batch(org, batch.pk)
    return answer_survey(SurveyRequest.objects.get(batch=batch), {"nps": score})


def thank_you_url(response, slug="acme") -> str:
    return f"/api/v1/orgs/{slug}/feedback/responses/{response.pk}/thank-you/"


def thank_yous(mailoutbox, response) -> list:
    return [m for m in mailoutbox if m.subject == THANKS and m.to == [response.contact.email]]


def assert_not_thanked(mailbox, response) -> None:
    """No thank-you was approved for `response`, and none went out."""
    assert thank_yous(mailbox, response) == []
    response.refresh_from_db()
    assert response.thank_you_approved_by is None


def test_pm_approves_a_promoter_thank_you_that_is_mailed_once(
    org, pm, member, mailoutbox, django_capture_on_commit_callbacks
):
    response = answered(org, pm, 10)
    api = Client(HTTP_AUTHORIZATION=f"Bearer {create_api_token(user=pm.user, name='t')[1]}")
    with django_capture_on_commit_callbacks(execute=True):
        approved = api.post(thank_you_url(response))
    assert approved.status_code == 200, approved.json()
    body = approved.json()
    assert (body["id"], body["nps_score"], body["thank_you_approved_by"]) == (response.pk, 10, pm.pk)
    [mail] = thank_yous(mailoutbox, response)
    assert "Paula Manager" in mail.from_email and mail.reply_to == ["paula@acme.example"]
    assert api.get(f"{API}responses/{response.pk}/").json()["thank_you_sent_at"] is not None

    coe = client_for(member(Role.CX_COE))
    for again in (api, coe):
        with django_capture_on_commit_callbacks(execute=True):
            twice = again.post(thank_you_url(response))
        assert twice.status_code == 400
        assert twice.json()["error"]["fields"] == {
            "non_field_errors": ["A thank-you was already approved for this response."]
        }
    assert len(thank_yous(mailoutbox, response)) == 1
    response.refresh_from_db()
    assert response.thank_you_approved_by == pm
    assert AuditEvent.objects.filter(organization=org, verb="response.thank_you_approved").count() == 1


@pytest.mark.parametrize(
    ("score", "stop", "message"),
    [
        (3, None, "Thank-you mails are for promoters (a score of 9 or 10)."),
        (8, None, "Thank-you mails are for promoters (a score of 9 or 10)."),
        (
            10,
            lambda c: services.opt_out_contact(contact=c, reason="No more mail, please"),
            "{name} has opted out of our mail, so no thank-you can be sent.",
        ),
        (
            10,
            lambda c: services.record_bounce(organization=c.organization, email=c.email, kind="hard"),
            "{name} cannot be mailed (their address bounced), so no thank-you can be sent.",
        ),
    ],
    ids=["detractor", "passive", "opted_out", "bounced"],
)
def test_a_refused_thank_you_is_a_400_with_the_reason(
    org, pm, score, stop, message, mailoutbox, django_capture_on_commit_callbacks
):
    response = answered(org, pm, score)
    if stop:
        stop(response.contact)
    with django_capture_on_commit_callbacks(execute=True):
        refused = client_for(pm).post(thank_you_url(response))
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "invalid"
    assert refused.json()["error"]["fields"] == {"non_field_errors": [message.format(name=response.contact.name)]}
    assert_not_thanked(mailoutbox, response)


def test_outsider_gets_404_for_another_organizations_thank_you(
    org, pm, outsider_client, mailoutbox, django_capture_on_commit_callbacks
):
    response = answered(org, pm, 10)
    with django_capture_on_commit_callbacks(execute=True):
        statuses = [outsider_client.post(thank_you_url(response, slug)).status_code for slug in ("acme", "globex")]
    assert statuses == [404, 404]
    assert_not_thanked(mailoutbox, response)


@pytest.mark.parametrize("role", [Role.EXECUTIVE, Role.UNIT_LEADER, Role.STAFF])
def test_a_role_that_cannot_send_gets_403_for_the_thank_you(
    org, pm, member, role, mailoutbox, django_capture_on_commit_callbacks
):
    response = answered(org, pm, 10)
    with django_capture_on_commit_callbacks(execute=True):
        denied = client_for(member(role)).post(thank_you_url(response))
    assert denied.status_code == 403
    assert denied.json()["error"]["message"] == "Your role does not allow this."
    assert_not_thanked(mailoutbox, response)


def test_a_pm_of_another_project_gets_403_with_the_reason(org, pm, mailoutbox, django_capture_on_commit_callbacks):
    response = answered(org, pm, 10)
    with django_capture_on_commit_callbacks(execute=True):
        denied = client_for(make_pm(org, "Omar Other", email="omar@acme.example")).post(thank_you_url(response))
    assert denied.status_code == 403
    assert denied.json()["error"]["message"] == "Only the project's manager or the CX CoE approves this thank-you."
    assert thank_yous(mailoutbox, response) == []


def test_the_thank_you_action_is_in_the_api_schema(owner_client):
    schema = owner_client.get("/api/schema/?format=json").json()
    operation = schema["paths"]["/api/v1/orgs/{org_slug}/feedback/responses/{id}/thank-you/"]["post"]
    assert "requestBody" not in operation
    returned = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    properties = schema["components"]["schemas"][returned]["properties"]
    assert properties["thank_you_approved_by"]["readOnly"] and properties["thank_you_sent_at"]["readOnly"]
