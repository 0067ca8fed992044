"""The demo organization: a person in every role, then each app's demo data, in dependency order."""

from allauth.account.models import EmailAddress
from django.db import transaction

from cxprogram.accounts.models import User
from cxprogram.tenancy.context import activate
from cxprogram.tenancy.models import Membership, Organization, Unit
from cxprogram.tenancy.permissions import Role

DEMO_SLUG = "harborview"
DEMO_PASSWORD = "demo-Harborview-2026"

# key: (email, name, title, roles, unit)
PEOPLE = {
    "admin": ("admin@harborview.example", "Alex Admin", "Operations manager", [Role.ADMIN], None),
    "lead_executive": ("ceo@harborview.example", "Morgan Reyes", "Chief Executive Officer", [Role.EXECUTIVE], None),
    "executive": ("coo@harborview.example", "Priya Natarajan", "Chief Operating Officer", [Role.EXECUTIVE], None),
    "executive_2": ("cfo@harborview.example", "Daniel Okafor", "Chief Financial Officer", [Role.EXECUTIVE], None),
    "cx_coe": ("cx@harborview.example", "Jordan Lee", "CX Center of Excellence lead", [Role.CX_COE], None),
    "unit_leader": (
        "buildings.lead@harborview.example",
        "Sam Whitaker",
        "Director, Buildings",
        [Role.UNIT_LEADER],
        "Buildings",
    ),
    "project_manager": (
        "pm@harborview.example",
        "Taylor Brooks",
        "Senior project manager",
        [Role.PROJECT_MANAGER],
        "Buildings",
    ),
    "project_manager_2": (
        "pm2@harborview.example",
        "Casey Moreno",
        "Project manager",
        [Role.PROJECT_MANAGER],
        "Infrastructure",
    ),
    "staff": ("staff@harborview.example", "Riley Chen", "Design engineer", [Role.STAFF], "Infrastructure"),
}

UNITS = {"Buildings": ["Healthcare", "Education"], "Infrastructure": ["Transportation", "Water"], "Corporate": []}


def demo_logins() -> list[tuple[str, str, str]]:
    return [(email, name, ", ".join(Role(r).label for r in roles)) for email, name, _, roles, _ in PEOPLE.values()]


@transaction.atomic
def seed_demo() -> Organization:
    import charters.demo
    import feedback.demo
    import initiatives.demo
    import metrics.demo

    Organization.objects.filter(slug=DEMO_SLUG).delete()
    organization = Organization.objects.create(
        name="Harborview Design Group", slug=DEMO_SLUG, time_zone="America/New_York", fiscal_year_start_month=7
    )
    activate(organization)
    units = {}
    for parent_name, children in UNITS.items():
        parent = Unit.objects.create(organization=organization, name=parent_name)
        units[parent_name] = parent
        for child in children:
            units[child] = Unit.objects.create(organization=organization, name=child, parent=parent)
    people = {}
    for key, (email, name, title, roles, unit) in PEOPLE.items():
        user, _ = User.objects.get_or_create(email=email, defaults={"full_name": name})
        user.full_name = name
        user.set_password(DEMO_PASSWORD)
        user.save()
        EmailAddress.objects.update_or_create(user=user, email=email, defaults={"verified": True, "primary": True})
        people[key] = Membership.objects.create(
            organization=organization, user=user, roles=[str(r) for r in roles], title=title, unit=units.get(unit)
        )
    for app_demo in (charters.demo, feedback.demo, initiatives.demo, metrics.demo):
        app_demo.seed(organization, people)
    return organization
