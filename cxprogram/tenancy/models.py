import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from .permissions import TWO_FACTOR_ROLES, Role, can

TIME_ZONE_CHOICES = [(tz, tz) for tz in sorted(zoneinfo.available_timezones()) if "/" in tz or tz == "UTC"]
MONTH_CHOICES = [
    (i, m)
    for i, m in enumerate(
        [
            "January",
            "February",
            "March",
            "April",
            "May",
            "June",
            "July",
            "August",
            "September",
            "October",
            "November",
            "December",
        ],
        start=1,
    )
]


class Organization(models.Model):
    """A tenant: one customer of the product, running its own CX program."""

    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=60, unique=True)
    time_zone = models.CharField(max_length=64, choices=TIME_ZONE_CHOICES, default="UTC")
    logo = models.ImageField(upload_to="logos/", blank=True)
    fiscal_year_start_month = models.PositiveSmallIntegerField(choices=MONTH_CHOICES, default=1)
    require_two_factor = models.BooleanField(
        default=False, help_text="Admins and executives must set up two-factor authentication."
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)


class TenantQuerySet(models.QuerySet):
    def for_org(self, organization):
        return self.filter(organization=organization)


class TenantModel(models.Model):
    """Every tenant-owned row carries its organization. Subclasses lead unique constraints and
    composite indexes with `organization` (a test checks), so the tables can be distributed by tenant."""

    # Not indexed alone: each subclass has an index or unique constraint led by it (a test checks), which
    # serves every look-up by organization; a single-column copy would only cost every write.
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+", db_index=False)

    objects = TenantQuerySet.as_manager()

    class Meta:
        abstract = True


class Unit(TenantModel):
    """A division or department. Units nest one level: a top-level unit may have sub-units."""

    name = models.CharField(max_length=120)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.RESTRICT, related_name="children")

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["organization", "name"], name="unit_unique_name")]

    def __str__(self):
        return f"{self.parent.name} › {self.name}" if self.parent_id else self.name

    def clean(self):
        if self.parent_id:
            if self.parent.organization_id != self.organization_id:
                raise ValidationError({"parent": "Choose a unit of this organization."})
            if self.parent.parent_id:
                raise ValidationError({"parent": "Units nest one level only: choose a top-level unit."})
            if self.pk and self.parent_id == self.pk:
                raise ValidationError({"parent": "A unit cannot contain itself."})
            if self.pk and self.children.exists():
                raise ValidationError({"parent": "This unit has sub-units, so it must stay at the top level."})


class MembershipQuerySet(TenantQuerySet):
    def active(self):
        return self.filter(is_active=True)

    def with_role(self, role: str):
        # Roles are a JSON list; the quoted name cannot match a longer role name by accident.
        return self.filter(roles__icontains=f'"{role}"')


class Membership(TenantModel):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    roles = models.JSONField(default=list)
    unit = models.ForeignKey(Unit, null=True, blank=True, on_delete=models.SET_NULL, related_name="members")
    title = models.CharField(max_length=120, blank=True)
    is_active = models.BooleanField(default=True)
    joined_at = models.DateTimeField(default=timezone.now)
    deactivated_at = models.DateTimeField(null=True, blank=True)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        ordering = ["user__full_name", "user__email"]
        constraints = [models.UniqueConstraint(fields=["organization", "user"], name="membership_unique_user")]
        indexes = [models.Index(fields=["organization", "is_active"], name="membership_org_active")]

    def __str__(self):
        return f"{self.user} @ {self.organization}"

    def can(self, permission: str) -> bool:
        return self.is_active and can(self.roles, permission)

    def has_role(self, role: str) -> bool:
        return role in self.roles

    @property
    def role_labels(self) -> list[str]:
        return [Role(r).label for r in self.roles if r in Role.values]

    @property
    def needs_two_factor(self) -> bool:
        return self.organization.require_two_factor and any(r in TWO_FACTOR_ROLES for r in self.roles)


class InvitationQuerySet(TenantQuerySet):
    def pending(self):
        return self.filter(accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now())


class Invitation(TenantModel):
    """An emailed, single-use, expiring link to join an organization. Only the token's hash is
    stored; the token itself is derived from SECRET_KEY and a per-invitation nonce (see core.tokens),
    so the mail task can render the link without the raw token ever being stored or queued."""

    email = models.EmailField()
    roles = models.JSONField(default=list)
    unit = models.ForeignKey(Unit, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    nonce = models.CharField(max_length=32)
    token_hash = models.CharField(max_length=64, db_index=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    sent_count = models.PositiveIntegerField(default=0)
    last_sent_at = models.DateTimeField(null=True, blank=True)
    mailed_nonce = models.CharField(max_length=32, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "token_hash"], name="invitation_unique_token"),
            models.UniqueConstraint(
                fields=["organization", "email"],
                condition=Q(accepted_at__isnull=True, revoked_at__isnull=True),
                name="invitation_one_open_per_email",
            ),
        ]

    def __str__(self):
        return f"Invitation for {self.email} to {self.organization}"

    @property
    def status(self) -> str:
        if self.accepted_at:
            return "accepted"
        if self.revoked_at:
            return "revoked"
        if self.expires_at <= timezone.now():
            return "expired"
        return "pending"

    @property
    def role_labels(self) -> list[str]:
        return [Role(r).label for r in self.roles if r in Role.values]
