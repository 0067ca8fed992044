"""Fixtures shared by the survey tests."""

import pytest

from cxprogram.tenancy.permissions import Role
from feedback import services
from feedback.models import SurveyRequest
from tests.factories import add_member, make_user
from tests.feedback.factories import make_account, make_pm


@pytest.fixture
def sent(org, django_capture_on_commit_callbacks):
    """A sent request to one contact on a project managed by Paula; returns (request, token)."""
    pm = make_pm(org, email="paula@acme.example")
    add_member(org, [Role.CX_COE], user=make_user("coe@acme.example", "Cora CoE"))
    _, people, project = make_account(org, pm, contacts=1)
    batch = services.create_batch(organization=org, actor=pm.user, sender=pm, projects=[project], contacts=people)
    with django_capture_on_commit_callbacks(execute=True):
        services.send_batch_now(batch=batch, actor=pm.user)
    request = SurveyRequest.objects.get(batch=batch)
    return request, services.survey_token(request)
