"""Operations that change organizations, units, memberships and invitations.

Each runs in one transaction, records itself in the audit log in that transaction, and sends mail
only after commit.
"""

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify

from cxprogram.audit.services import record
from cxprogram.core import tokens
from cxprogram.core.tasks import enqueue

from .context import activate
from .models import Invitation, Membership, Organization, Unit
from .permissions import Role

RESERVED_SLUGS = {"new", "admin", "api", "static", "media", "accounts", "invitations", "settings", "dev"}


def _clean_roles(roles) -> list[str]:
    cleaned = [r for r in Role.values if r in set(roles or [])]
    if not cleaned:
        raise ValidationError({"roles": "Choose at least one role."})
    unknown = set(roles) - set(Role.values)
    if unknown:
        raise ValidationError({"roles": f"Unknown role: {', '.join(sorted(unknown))}."})
    return cleaned


def unique_slug(name: str) -> str:
    base = slugify(name)[:50] or "org"
    slug, n = base, 2
    while slug in RESERVED_SLUGS or Organization.objects.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


def validate_slug(slug: str, *, instance: Organization | None = None) -> None:
    if slug in RESERVED_SLUGS:
        raise ValidationError({"slug": "This address is reserved. Choose another."})
    taken = Organization.objects.filter(slug=slug)
    if instance is not None:
        taken = taken.exclude(pk=instance.pk)
    if taken.exists():
        raise ValidationError({"slug": "This address is already taken. Choose another."})


@transaction.atomic
def create_organization(*, user, name: str, slug: str = "", time_zone: str = "UTC", request=None) -> Organization:
    """Create an organization administered by `user` (signing up ends here)."""
    name = name.strip()
    if not name:
        raise ValidationError({"name": "Give your organization a name."})
    slug = slug or unique_slug(name)
    validate_slug(slug)
    try:
        with transaction.atomic():
            organization = Organization.objects.create(name=name, slug=slug, time_zone=time_zone)
    except IntegrityError:
        raise ValidationError({"slug": "This address is already taken. Choose another."}) from None
    activate(organization)
    membership = Membership.objects.create(organization=organization, user=user, roles=[Role.ADMIN])
    record(organization=organization, actor=user, verb="organization.created", target=organization, request=request)
    record(
        organization=organization,
        actor=user,
        verb="member.joined",
        target=membership,
        payload={"roles": membership.roles},
        request=request,
    )
    return organization


ORGANIZATION_FIELDS = ("name", "slug", "time_zone", "fiscal_year_start_month", "require_two_factor", "logo")


@transaction.atomic
def update_organization(*, organization: Organization, actor, request=None, **changes) -> Organization:
    if "slug" in changes and changes["slug"] != organization.slug:
        validate_slug(changes["slug"], instance=organization)
    changed = {}
    for field, value in changes.items():
        if field not in ORGANIZATION_FIELDS:
            raise ValueError(f"{field} cannot be changed here")
        if getattr(organization, field) != value:
            changed[field] = value
            setattr(organization, field, value)
    if changed:
        organization.full_clean()
        organization.save()
        record(
            organization=organization,
            actor=actor,
            verb="organization.updated",
            target=organization,
            payload={k: str(v) for k, v in changed.items()},
            request=request,
        )
    return organization


@transaction.atomic
def save_unit(
    *, organization: Organization, actor, name: str, parent: Unit | None = None, unit: Unit | None = None, request=None
) -> Unit:
    name = name.strip()
    creating = unit is None
    unit = unit or Unit(organization=organization)
    if Unit.objects.for_org(organization).filter(name__iexact=name).exclude(pk=unit.pk).exists():
        raise ValidationError({"name": "A unit with this name exists already."})
    unit.name, unit.parent = name, parent
    unit.full_clean(exclude=["organization"])
    unit.save()
    record(
        organization=organization,
        actor=actor,
        verb="unit.created" if creating else "unit.updated",
        target=unit,
        payload={"name": name, "parent": parent.name if parent else None},
        request=request,
    )
    return unit


@transaction.atomic
def delete_unit(*, unit: Unit, actor, request=None) -> None:
    if unit.children.exists():
        raise ValidationError("Move or delete this unit's sub-units first.")
    record(organization=unit.organization, actor=actor, verb="unit.deleted", target=unit, request=request)
    unit.delete()


@transaction.atomic
def change_membership(
    *, membership: Membership, actor, roles: list[str], unit: Unit | None, title: str = "", request=None
) -> Membership:
    roles = _clean_roles(roles)
    if unit is not None and unit.organization_id != membership.organization_id:
        raise ValidationError({"unit": "Choose a unit of this organization."})
    if Role.ADMIN in membership.roles and Role.ADMIN not in roles:
        _ensure_another_admin(membership)
    before = {"roles": membership.roles, "unit": str(membership.unit or ""), "title": membership.title}
    membership.roles, membership.unit, membership.title = roles, unit, title.strip()
    membership.save(update_fields=["roles", "unit", "title"])
    after = {"roles": roles, "unit": str(unit or ""), "title": membership.title}
    if before != after:
        record(
            organization=membership.organization,
            actor=actor,
            verb="member.changed",
            target=membership,
            payload={"before": before, "after": after},
            request=request,
        )
    return membership


def _ensure_another_admin(membership: Membership) -> None:
    others = (
        Membership.objects.for_org(membership.organization).active().with_role(Role.ADMIN).exclude(pk=membership.pk)
    )
    if not others.exists():
        raise ValidationError("An organization needs at least one active admin. Make someone else an admin first.")


@transaction.atomic
def deactivate_member(*, membership: Membership, actor, request=None) -> Membership:
    """Access ends at once (every tenant view and API call checks an active membership); the
    person's history (authored charters, audit events, responses owned) stays."""
    if not membership.is_active:
        return membership
    if Role.ADMIN in membership.roles:
        _ensure_another_admin(membership)
    membership.is_active = False
    membership.deactivated_at = timezone.now()
    membership.save(update_fields=["is_active", "deactivated_at"])
    record(
        organization=membership.organization, actor=actor, verb="member.deactivated", target=membership, request=request
    )
    return membership


@transaction.atomic
def reactivate_member(*, membership: Membership, actor, request=None) -> Membership:
    if not membership.is_active:
        membership.is_active, membership.deactivated_at = True, None
        membership.save(update_fields=["is_active", "deactivated_at"])
        record(
            organization=membership.organization,
            actor=actor,
            verb="member.reactivated",
            target=membership,
            request=request,
        )
    return membership


def invitation_token(invitation: Invitation) -> str:
    return tokens.make_token("invitation", invitation.nonce)


def invitation_url(invitation: Invitation) -> str:
    from django.urls import reverse

    return settings.SITE_URL + reverse("invitation", args=[invitation_token(invitation)])


def _issue_token(invitation: Invitation) -> None:
    invitation.nonce = tokens.new_nonce()
    invitation.token_hash = tokens.hash_token(invitation_token(invitation))
    invitation.expires_at = timezone.now() + timedelta(days=settings.INVITATION_VALID_DAYS)


@transaction.atomic
def invite_member(
    *, organization: Organization, actor, email: str, roles: list[str], unit: Unit | None = None, request=None
) -> Invitation:
    from .tasks import send_invitation_email

    email = email.strip().lower()
    roles = _clean_roles(roles)
    if unit is not None and unit.organization_id != organization.id:
        raise ValidationError({"unit": "Choose a unit of this organization."})
    if Membership.objects.for_org(organization).filter(user__email__iexact=email).exists():
        raise ValidationError({"email": "This person is already a member of the organization."})
    open_invitations = Invitation.objects.for_org(organization).filter(
        email__iexact=email, accepted_at__isnull=True, revoked_at__isnull=True
    )
    if open_invitations.filter(expires_at__gt=timezone.now()).exists():
        raise ValidationError({"email": "An invitation for this address is pending. Resend it instead."})
    open_invitations.update(revoked_at=timezone.now())  # expired ones make way for the new one
    invitation = Invitation(organization=organization, email=email, roles=roles, unit=unit, invited_by=actor)
    _issue_token(invitation)
    invitation.save()
    record(
        organization=organization,
        actor=actor,
        verb="invitation.sent",
        target=invitation,
        payload={"email": email, "roles": roles, "unit": str(unit or "")},
        request=request,
    )
    enqueue(send_invitation_email, invitation.pk)
    return invitation


@transaction.atomic
def resend_invitation(*, invitation: Invitation, actor, request=None) -> Invitation:
    """A fresh link (the old one stops working) and a fresh expiry."""
    from .tasks import send_invitation_email

    if invitation.accepted_at or invitation.revoked_at:
        raise ValidationError(f"This invitation was {invitation.status}; it cannot be resent.")
    _issue_token(invitation)
    invitation.save(update_fields=["nonce", "token_hash", "expires_at"])
    record(
        organization=invitation.organization, actor=actor, verb="invitation.resent", target=invitation, request=request
    )
    enqueue(send_invitation_email, invitation.pk)
    return invitation


@transaction.atomic
def revoke_invitation(*, invitation: Invitation, actor, request=None) -> Invitation:
    if invitation.accepted_at:
        raise ValidationError("This invitation was accepted already; deactivate the member instead.")
    if invitation.revoked_at is None:
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])
        record(
            organization=invitation.organization,
            actor=actor,
            verb="invitation.revoked",
            target=invitation,
            request=request,
        )
    return invitation


def mail_invitation(invitation: Invitation) -> bool:
    """Send the invitation mail for the invitation's current link, once: the row is claimed with a
    conditional update, so a retried or duplicated task does not mail the same link twice."""
    from cxprogram.core.mail import send_templated_mail

    claimed = (
        Invitation.objects.filter(pk=invitation.pk, accepted_at__isnull=True, revoked_at__isnull=True)
        .exclude(mailed_nonce=invitation.nonce)
        .update(mailed_nonce=invitation.nonce)
    )
    if not claimed:
        return False
    send_templated_mail(
        to=[invitation.email],
        template="tenancy/email/invitation",
        context={
            "invitation": invitation,
            "organization": invitation.organization,
            "url": invitation_url(invitation),
            "inviter": invitation.invited_by,
        },
    )
    Invitation.objects.filter(pk=invitation.pk).update(
        sent_count=invitation.sent_count + 1, last_sent_at=timezone.now()
    )
    return True


def find_invitation(token: str) -> Invitation | None:
    """The invitation behind a link, whatever its state, or None for a link that never existed."""
    from .context import system_scope

    if not tokens.looks_like_token(token):
        return None
    with system_scope():
        return (
            Invitation.objects.select_related("organization", "unit", "invited_by")
            .filter(token_hash=tokens.hash_token(token))
            .first()
        )


@transaction.atomic
def accept_invitation(*, invitation: Invitation, user, request=None) -> Membership:
    activate(invitation.organization)
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.status != "pending":
        raise ValidationError(f"This invitation has been {invitation.status}. Ask an admin for a new one.")
    if not user.emailaddress_set.filter(email__iexact=invitation.email, verified=True).exists():
        raise ValidationError(
            f"This invitation was sent to {invitation.email}. Sign in with that address to accept it."
        )
    membership, created = Membership.objects.get_or_create(
        organization=invitation.organization, user=user, defaults={"roles": invitation.roles, "unit": invitation.unit}
    )
    if not created and not membership.is_active:
        raise ValidationError("Your membership of this organization was deactivated. Ask an admin to restore it.")
    invitation.accepted_at, invitation.accepted_by = timezone.now(), user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    record(
        organization=invitation.organization, actor=user, verb="invitation.accepted", target=invitation, request=request
    )
    if created:
        record(
            organization=invitation.organization,
            actor=user,
            verb="member.joined",
            target=membership,
            payload={"roles": membership.roles},
            request=request,
        )
    return membership
