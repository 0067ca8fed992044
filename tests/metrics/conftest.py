import pytest

from cxprogram.tenancy.models import Unit
from cxprogram.tenancy.permissions import Role
from tests.feedback.factories import make_client
from tests.metrics.factories import Responses, add_revenue, recent


@pytest.fixture
def data(org, owner, member):
    """In the last two months: Healthcare (PM Ann) 10, 9, 9, 7, 3; Water (PM Ben) 10, 2, 1, 6, 8, 9."""
    buildings = Unit.objects.create(organization=org, name="Buildings")
    healthcare = Unit.objects.create(organization=org, name="Healthcare", parent=buildings)
    water = Unit.objects.create(organization=org, name="Water")
    ann, ben = member(Role.PROJECT_MANAGER), member(Role.PROJECT_MANAGER)
    builder = Responses(org, ann)
    a = builder.project(pm=ann, unit=healthcare, client=make_client(org, "Alpha Health", unit=healthcare))
    b = builder.project(pm=ben, unit=water, client=make_client(org, "Bay Water", unit=water))
    builder.add([10, 9, 9, 7, 3], project=a, submitted_at=recent(), comment="=HYPERLINK(evil) late again")
    builder.add([10, 2, 1, 6, 8, 9], project=b, submitted_at=recent(), comment="Slow replies")
    add_revenue(a.client, {f"{recent():%Y-%m}": 1000})
    add_revenue(b.client, {f"{recent():%Y-%m}": 400})
    return {"buildings": buildings, "water": water, "a": a, "b": b, "ann": ann, "ben": ben, "builder": builder}
