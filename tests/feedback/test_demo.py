import time

import pytest
from django.utils import timezone

from cxprogram.tenancy.models import Unit
from cxprogram.tenancy.permissions import Role
from feedback import demo, selectors
from feedback.models import Batch, Client, Contact, FollowUpCase, Project, Response
from tests.factories import add_member

pytestmark = pytest.mark.django_db


def test_demo_seeds_a_realistic_program_quickly(org):
    for parent, children in {
        "Buildings": ["Healthcare", "Education"],
        "Infrastructure": ["Transportation", "Water"],
        "Corporate": [],
    }.items():
        top = Unit.objects.create(organization=org, name=parent)
        for child in children:
            Unit.objects.create(organization=org, name=child, parent=top)
    people = {
        key: add_member(org, [role])
        for key, role in {
            "cx_coe": Role.CX_COE,
            "unit_leader": Role.UNIT_LEADER,
            "project_manager": Role.PROJECT_MANAGER,
            "project_manager_2": Role.PROJECT_MANAGER,
        }.items()
    }
    started = time.monotonic()
    demo.seed(org, people)
    assert time.monotonic() - started < 30
    assert Client.objects.for_org(org).count() == 27
    # Clients with projects are won ones; the prospects have none yet.
    prospects = Client.objects.for_org(org).filter(status="prospect")
    assert prospects.count() == 2 and not Project.objects.for_org(org).filter(client__in=prospects).exists()
    assert 75 <= Contact.objects.for_org(org).count() <= 90
    projects = Project.objects.for_org(org).select_related("client", "unit")
    assert len(projects) == 40
    for project in projects:  # a school gets a STEM wing, not "St. STEM Wing Addition" or a pump station
        assert any(project.name.endswith(kind) for kind in demo.PROJECT_NAMES[project.unit.name]), project.name
        assert project.name.startswith(demo.SHORT_NAMES.get(project.client.name, project.client.name.split()[0]))
    assert len({p.name for p in projects}) == 40
    assert Batch.objects.for_org(org).filter(state="draft").count() == 1
    responses = Response.objects.for_org(org)
    assert responses.count() > 60
    times = sorted(r.submitted_at for r in responses)
    middle = times[len(times) // 2]
    old = [r.nps_score for r in responses if r.submitted_at < middle]
    new = [r.nps_score for r in responses if r.submitted_at >= middle]
    assert selectors.nps(new) > selectors.nps(old)
    assert FollowUpCase.objects.for_org(org).filter(state="resolved").exists()
    assert FollowUpCase.objects.for_org(org).exclude(state="resolved").exists()
    # Open cases are recent ones: a CX team that left one unanswered for a year would not be a demo
    oldest_open = FollowUpCase.objects.for_org(org).exclude(state="resolved").order_by("created_at").first()
    assert (timezone.now() - oldest_open.created_at).days <= 60
    assert Contact.objects.for_org(org).filter(opted_out_at__isnull=False).count() == 3
