from django.http import Http404

from .context import activate, system_scope
from .models import Membership, Organization


def memberships_of(user):
    """A person's active memberships across organizations (the switcher)."""
    with system_scope():
        return list(
            Membership.objects.active().filter(user=user).select_related("organization").order_by("organization__name")
        )


def resolve_membership(user, org_slug: str) -> Membership:
    """The caller's active membership in the organization named by the URL, made current.

    Anything else (no such organization, not a member, deactivated) is a 404: another tenant's
    existence is never revealed."""
    organization = Organization.objects.filter(slug=org_slug).first()
    if organization is None:
        raise Http404("No such organization.")
    activate(organization)
    membership = (
        Membership.objects.for_org(organization)
        .active()
        .select_related("organization", "unit")
        .filter(user=user)
        .first()
    )
    if membership is None:
        raise Http404("No such organization.")
    return membership
