from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from charters import selectors, services
from charters.models import Callout
from cxprogram.tenancy.models import Unit
from cxprogram.tenancy.permissions import Role

from .factories import draft_charter, sign_all

pytestmark = pytest.mark.django_db


@pytest.fixture
def units(org):
    buildings = Unit.objects.create(organization=org, name="Buildings")
    healthcare = Unit.objects.create(organization=org, name="Healthcare", parent=buildings)
    infrastructure = Unit.objects.create(organization=org, name="Infrastructure")
    return buildings, healthcare, infrastructure


@pytest.fixture
def world(org, editor, lead, member, units):
    """Five active members: editor and lead (no unit), a (Buildings), b (Healthcare, in Buildings),
    c (Infrastructure); one deactivated member; a program charter in force."""
    buildings, healthcare, infrastructure = units
    a = member(Role.STAFF, unit=buildings)
    b = member(Role.STAFF, unit=healthcare)
    c = member(Role.PROJECT_MANAGER, unit=infrastructure)
    gone = member(Role.STAFF, unit=buildings)
    version = draft_charter(org, editor)
    sign_all(services.send_for_signature(version=version, actor=editor.user, lead=lead, supporters=[]))
    version.refresh_from_db()
    charter = version.charter
    charter.refresh_from_db()
    for m in (a, b, lead, gone):
        services.acknowledge(charter=charter, membership=m)
    gone.is_active = False
    gone.save()
    return {"charter": charter, "version": version, "a": a, "b": b, "c": c, "units": units}


def test_acknowledgment_rate_for_the_organization_and_a_unit(org, world):
    buildings, _, infrastructure = world["units"]
    assert selectors.acknowledgment_rate(org) == {"members": 5, "acknowledged": 3, "rate": 0.6, "charters": 1}
    assert selectors.acknowledgment_rate(org, unit=buildings) == {
        "members": 2,
        "acknowledged": 2,
        "rate": 1.0,
        "charters": 1,
    }
    assert selectors.acknowledgment_rate(org, unit=infrastructure)["rate"] == 0.0


def test_acknowledgment_rate_without_a_charter_in_force(org, member):
    member(Role.STAFF)
    assert selectors.acknowledgment_rate(org) == {"members": 1, "acknowledged": 0, "rate": None, "charters": 0}


def test_acknowledgment_by_unit_on_the_charter_page(world):
    assert selectors.acknowledgment_by_unit(world["charter"]) == [
        {"unit": "Buildings", "members": 2, "acknowledged": 2, "rate": 100},
        {"unit": "Infrastructure", "members": 1, "acknowledged": 0, "rate": 0},
        {"unit": "No unit", "members": 2, "acknowledged": 1, "rate": 50},
    ]


def test_callout_counts_per_column_and_unit(org, lead, world):
    charter, matrix = world["charter"], world["version"].matrix
    relating, measuring = matrix["columns"][0], matrix["columns"][5]
    partnering = matrix["columns"][3]
    a, b, c = world["a"], world["b"], world["c"]

    def kudos(behavior, subject):
        return services.record_callout(
            charter=charter, author=lead, kind="kudos", note="Seen", behavior_key=behavior["key"], subject=subject
        )

    kudos(relating["behaviors"][0], a)
    kudos(relating["behaviors"][0], b)
    old = kudos(measuring["behaviors"][0], c)
    services.record_callout(
        charter=charter, author=lead, kind="flag", note="Blamed a partner", column_key=partnering["key"]
    )
    services.record_callout(charter=charter, author=a, kind="flag", note="Ignored a client call", subject=c)
    Callout.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=40))

    buildings, _, infrastructure = world["units"]
    assert selectors.callout_counts(org) == {
        "total": 5,
        "kudos": 3,
        "flags": 2,
        "by_column": [
            {"column": "Not in the matrix", "kudos": 0, "flags": 1},
            {"column": "Measuring", "kudos": 1, "flags": 0},
            {"column": "Partnering", "kudos": 0, "flags": 1},
            {"column": "Relating", "kudos": 2, "flags": 0},
        ],
        "by_unit": [
            {"unit_id": buildings.pk, "unit": "Buildings", "kudos": 2, "flags": 0},
            {"unit_id": infrastructure.pk, "unit": "Infrastructure", "kudos": 1, "flags": 1},
            {"unit_id": None, "unit": "No unit", "kudos": 0, "flags": 1},
        ],
    }
    recent = selectors.callout_counts(org, since=timezone.now() - timedelta(days=30))
    assert (recent["total"], recent["kudos"], recent["flags"]) == (4, 2, 2)
    assert selectors.callout_counts(org, until=timezone.now() - timedelta(days=30))["total"] == 1


def test_a_kudos_needs_a_behavior_in_force(org, lead, world):
    with pytest.raises(ValidationError, match="Choose the behavior from the matrix"):
        services.record_callout(charter=world["charter"], author=lead, kind="kudos", note="Nice")
    with pytest.raises(ValidationError, match="not in the charter in force"):
        services.record_callout(charter=world["charter"], author=lead, kind="kudos", note="Nice", behavior_key="b-nope")
