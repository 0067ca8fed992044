"""Test data builders shared by every app's tests."""

import itertools

from allauth.account.models import EmailAddress

from cxprogram.accounts.models import User
from cxprogram.tenancy.context import activate
from cxprogram.tenancy.models import Membership, Organization, Unit
from cxprogram.tenancy.permissions import Role

PASSWORD = "correct-horse-battery-9"
_seq = itertools.count(1)


def make_user(email: str | None = None, name: str = "", verified: bool = True) -> User:
    n = next(_seq)
    email = email or f"person{n}@example.com"
    user = User.objects.create_user(email=email, password=PASSWORD, full_name=name or f"Person {n}")
    EmailAddress.objects.create(user=user, email=email, verified=verified, primary=True)
    return user


def make_org(name: str | None = None, **fields) -> Organization:
    n = next(_seq)
    organization = Organization.objects.create(name=name or f"Org {n}", slug=fields.pop("slug", f"org-{n}"), **fields)
    activate(organization)
    return organization


def add_member(
    organization: Organization, roles=(Role.STAFF,), user: User | None = None, unit: Unit | None = None, **fields
) -> Membership:
    return Membership.objects.create(
        organization=organization, user=user or make_user(), roles=[str(r) for r in roles], unit=unit, **fields
    )


def populate_organization(organization: Organization, owner_name: str = "") -> dict:
    """A member in each role and at least one row of every tenant model, for the walks over every URL
    and model. Each app adds its own rows through `tests/<app>/factories.py:populate(organization,
    people)`. Returns the people, by role."""
    import importlib

    people = {
        "owner": add_member(organization, [Role.ADMIN], user=make_user(name=owner_name)),
        "executive": add_member(organization, [Role.EXECUTIVE]),
        "cx_coe": add_member(organization, [Role.CX_COE]),
        "project_manager": add_member(organization, [Role.PROJECT_MANAGER]),
        "staff": add_member(organization, [Role.STAFF]),
    }
    for app in ("platform", "charters", "feedback", "initiatives", "metrics"):
        try:
            module = importlib.import_module(f"tests.{app}.factories")
        except ModuleNotFoundError:
            continue
        module.populate(organization, people)
    return people
