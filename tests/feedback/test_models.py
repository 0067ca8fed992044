import pytest

from cxprogram.tenancy.permissions import Role
from feedback.models import FollowUpCase, Response
from tests.factories import add_member
from tests.feedback.factories import populate

pytestmark = pytest.mark.django_db


def test_populate_creates_a_case_for_the_detractor_response(org, owner):
    people = {"owner": owner, "project_manager": add_member(org, [Role.PROJECT_MANAGER])}
    populate(org, people)
    response = Response.objects.for_org(org).get()
    assert response.nps_category == "detractor"
    assert FollowUpCase.objects.for_org(org).get().response == response


def test_an_organization_with_feedback_can_be_deleted_but_a_used_project_cannot(org, owner):
    from django.db.models import RestrictedError

    from cxprogram.tenancy.models import Organization
    from feedback.models import Project

    people = {"owner": owner, "project_manager": add_member(org, [Role.PROJECT_MANAGER])}
    populate(org, people)
    with pytest.raises(RestrictedError):
        Project.objects.for_org(org).get().delete()
    Organization.objects.filter(pk=org.pk).delete()
    assert not Response.objects.filter(organization_id=org.pk).exists()
