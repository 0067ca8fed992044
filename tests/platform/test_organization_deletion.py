"""An organization can be deleted with everything it holds (running `make demo` again replaces the demo
organization this way), while a parent unit or a member who owns action items cannot be deleted alone."""

import pytest
from django.apps import apps
from django.db.models import RestrictedError

from cxprogram.core.demo import DEMO_SLUG, seed_demo
from cxprogram.tenancy.context import system_scope
from cxprogram.tenancy.models import Organization, TenantModel, Unit
from initiatives.models import ActionItem
from tests.factories import populate_organization

pytestmark = pytest.mark.django_db


def rows_of(organization_id: int) -> dict:
    with system_scope():
        return {
            model._meta.label: model.objects.filter(organization_id=organization_id).count()
            for model in apps.get_models()
            if issubclass(model, TenantModel)
        }


def test_an_organization_is_deleted_with_all_it_holds_and_nothing_of_another(org, other_org):
    populate_organization(org)  # sub-units and action items among the rest
    populate_organization(other_org)
    others_before = rows_of(other_org.pk)

    Organization.objects.filter(pk=org.pk).delete()

    assert not any(rows_of(org.pk).values())
    assert rows_of(other_org.pk) == others_before


def test_a_parent_unit_or_a_member_with_action_items_is_not_deleted_alone(org):
    populate_organization(org)
    with pytest.raises(RestrictedError):
        Unit.objects.filter(organization=org, children__isnull=False).first().delete()
    with pytest.raises(RestrictedError):
        ActionItem.objects.filter(organization=org).first().owner.delete()


def test_seeding_the_demo_again_replaces_it():
    first = seed_demo()
    second = seed_demo()
    assert list(Organization.objects.filter(slug=DEMO_SLUG).values_list("pk", flat=True)) == [second.pk]
    assert not any(rows_of(first.pk).values())
