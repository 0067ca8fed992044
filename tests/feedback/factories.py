"""Feedback test data: builders for tests, and `populate` (one row of every feedback model) for the
platform's cross-tenant URL walk."""

import itertools
from datetime import timedelta

from django.utils import timezone

from cxprogram.core import tokens
from feedback import questions, selectors, services
from feedback.models import (
    Batch,
    BatchContact,
    BatchProject,
    Client,
    Contact,
    FeedbackSettings,
    FollowUpCase,
    ImportJob,
    Project,
    Response,
    SurveyRequest,
    SurveyTemplate,
    SurveyTemplateVersion,
)

_seq = itertools.count(1)


def answer_survey(survey_request: SurveyRequest, data: dict) -> Response:
    """The client answers through the real services, as the survey's submit does: the link read, the
    answers checked against its version and recorded."""
    token = services.survey_token(survey_request)
    version = selectors.survey_version(selectors.survey_link(token))
    answers, errors = questions.clean_answers(version.questions, data, partial=False)
    assert not errors, errors
    assert services.submit_answers(token=token, version=version, answers=answers) in services.RECORDED
    return Response.objects.get(request_id=survey_request.pk)


SIMPLE_QUESTIONS = [
    {"key": "nps", "kind": "nps", "required": True, "text": {"en": "How likely are you to recommend us?"}},
    {"key": "reason", "kind": "long_text", "required": False, "text": {"en": "Why?"}},
]


def make_client(organization, name=None, **fields) -> Client:
    return Client.objects.create(organization=organization, name=name or f"Client {next(_seq)}", **fields)


def make_contact(client, email=None, **fields) -> Contact:
    n = next(_seq)
    fields.setdefault("name", f"Contact {n}")
    return Contact.objects.create(
        organization_id=client.organization_id, client=client, email=email or f"contact{n}@client.example", **fields
    )


def make_project(client, code=None, **fields) -> Project:
    n = next(_seq)
    fields.setdefault("name", f"Project {n}")
    return Project.objects.create(
        organization_id=client.organization_id, client=client, code=code or f"P-{n:04d}", **fields
    )


def make_template_version(organization, questions=None) -> SurveyTemplateVersion:
    template = SurveyTemplate.objects.create(organization=organization, name=f"Template {next(_seq)}")
    version = SurveyTemplateVersion.objects.create(
        organization=organization,
        template=template,
        number=1,
        questions=questions or SIMPLE_QUESTIONS,
        languages=["en"],
    )
    template.current_version = version
    template.save(update_fields=["current_version"])
    return version


def make_sent_request(batch, contact, project, **fields) -> SurveyRequest:
    nonce = tokens.new_nonce()
    now = timezone.now()
    defaults = {
        "state": SurveyRequest.State.SENT,
        "sent_at": now,
        "expires_at": now + timedelta(days=30),
    }
    defaults.update(fields)
    return SurveyRequest.objects.create(
        organization_id=batch.organization_id,
        batch=batch,
        contact=contact,
        project=project,
        nonce=nonce,
        token_hash=tokens.hash_token(tokens.make_token("survey", nonce)),
        **defaults,
    )


def populate(organization, people):
    pm = people["project_manager"]
    FeedbackSettings.objects.create(organization=organization)
    client = make_client(organization, "Populated client", account_owner=pm)
    contact = make_contact(client, "populated.contact@client.example", name="Pat Populated")
    project = make_project(client, "POP-1", name="Populated project", project_manager=pm)
    version = make_template_version(organization)
    batch = Batch.objects.create(
        organization=organization,
        name="Populated batch",
        template_version=version,
        sender=pm,
        reply_to=pm.user.email,
        state=Batch.State.SENT,
    )
    BatchProject.objects.create(organization=organization, batch=batch, project=project)
    BatchContact.objects.create(organization=organization, batch=batch, contact=contact, project=project)
    request = make_sent_request(batch, contact, project, responded_at=timezone.now())
    response = Response.objects.create(
        organization=organization,
        request=request,
        batch=batch,
        contact=contact,
        client=client,
        project=project,
        project_manager=pm,
        contact_kind=contact.kind,
        template_version=version,
        nps_score=3,
        answers={"nps": 3, "reason": "Slow answers"},
    )
    FollowUpCase.objects.create(
        organization=organization,
        response=response,
        client=client,
        project=project,
        owner=pm,
        trigger=FollowUpCase.Trigger.DETRACTOR,
        due_at=timezone.now() + timedelta(days=2),
    )
    ImportJob.objects.create(
        organization=organization,
        kind=ImportJob.Kind.CONTACTS,
        filename="populated.csv",
        content="name,email\n",
        header=["name", "email"],
    )


def make_pm(org, name="Paula Manager", email=None):
    from cxprogram.tenancy.permissions import Role
    from tests.factories import add_member, make_user

    return add_member(org, [Role.PROJECT_MANAGER], user=make_user(email, name))


def make_account(org, pm, contacts=2, client_name=None):
    """A client with `contacts` contacts and one project managed by `pm`."""
    client = make_client(org, client_name, account_owner=pm)
    people = [make_contact(client) for _ in range(contacts)]
    project = make_project(client, project_manager=pm)
    return client, people, project
