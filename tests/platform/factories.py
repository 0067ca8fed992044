from cxprogram.audit.services import record
from cxprogram.tenancy import services
from cxprogram.tenancy.models import Unit
from cxprogram.tenancy.permissions import Role


def populate(organization, people):
    parent = Unit.objects.create(organization=organization, name="Populated unit")
    Unit.objects.create(organization=organization, name="Populated sub-unit", parent=parent)
    services.invite_member(
        organization=organization, actor=people["owner"].user, email="populated@example.com", roles=[Role.STAFF]
    )
    record(organization=organization, actor=people["owner"].user, verb="test.populated", target=parent)
