"""Charters: the organization's signed declaration of its CX program (or of one team).

A charter has versions. A version's content (title, sections, the desired-behaviors matrix) is
plain JSON so that it can be canonicalized and hashed; once a version is sent for signature it is
frozen (`frozen_at`, `content_hash`) and never changes again: the model refuses, and on PostgreSQL
a trigger refuses too (migration 0002). Changes go into a new version (an amendment).
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from cxprogram.tenancy.models import Membership, TenantModel, Unit

FROZEN_FIELDS = ("title", "content", "matrix", "content_hash", "frozen_at", "number", "charter_id")


class CharterSettings(TenantModel):
    """Per-organization signing settings (one row per organization, created on first use)."""

    reminder_interval_days = models.PositiveSmallIntegerField(
        default=3, help_text="Remind signers who have not signed every this many days."
    )
    expiry_days = models.PositiveSmallIntegerField(
        default=30, help_text="A signature request that is not complete after this many days expires."
    )

    class Meta:
        verbose_name_plural = "charter settings"
        constraints = [models.UniqueConstraint(fields=["organization"], name="charter_settings_one_per_org")]

    def __str__(self):
        return f"Charter settings of organization {self.organization_id}"

    def clean(self):
        if not 1 <= self.reminder_interval_days <= 30:
            raise ValidationError({"reminder_interval_days": "Choose between 1 and 30 days."})
        if not 1 <= self.expiry_days <= 365:
            raise ValidationError({"expiry_days": "Choose between 1 and 365 days."})


class Charter(TenantModel):
    class Kind(models.TextChoices):
        PROGRAM = "program", "Program charter"
        TEAM = "team", "Team charter"

    title = models.CharField(max_length=200)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    in_force_version = models.ForeignKey(
        "CharterVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-updated_at", "-id"]
        indexes = [models.Index(fields=["organization", "-updated_at"], name="charter_org_updated")]

    def __str__(self):
        return self.title


class CharterVersion(TenantModel):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        OUT_FOR_SIGNATURE = "out_for_signature", "Out for signature"
        IN_FORCE = "in_force", "In force"
        SUPERSEDED = "superseded", "Superseded"
        DECLINED = "declined", "Declined"
        VOIDED = "voided", "Voided"
        EXPIRED = "expired", "Expired"

    charter = models.ForeignKey(Charter, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    title = models.CharField(max_length=200)
    content = models.JSONField(default=dict)
    matrix = models.JSONField(default=dict)
    # Optimistic concurrency: each saved change of the sections (or of the whole matrix) increments
    # its counter; a save based on an older value is a conflict, never a silent overwrite.
    revision = models.PositiveIntegerField(default=1)
    matrix_revision = models.PositiveIntegerField(default=1)
    content_hash = models.CharField(max_length=64, blank=True)
    frozen_at = models.DateTimeField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    pdf = models.FileField(upload_to="charters/pdf/", blank=True)
    pdf_sha256 = models.CharField(max_length=64, blank=True)
    pdf_generated_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["charter", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "charter", "number"], name="charter_version_unique_number"),
            # At most one version of a charter is being worked on (a draft or out for signature).
            models.UniqueConstraint(
                fields=["organization", "charter"],
                condition=Q(status__in=["draft", "out_for_signature"]),
                name="charter_version_one_open",
            ),
        ]
        indexes = [models.Index(fields=["organization", "status"], name="charter_version_org_status")]

    def __str__(self):
        return f"{self.title} v{self.number}"

    @property
    def is_frozen(self) -> bool:
        return self.frozen_at is not None

    @property
    def is_draft(self) -> bool:
        return self.status == self.Status.DRAFT

    def save(self, *args, **kwargs):
        if self.pk:
            stored = CharterVersion.objects.filter(pk=self.pk).values(*FROZEN_FIELDS).first()
            if stored and stored["frozen_at"] and any(stored[f] != getattr(self, f) for f in FROZEN_FIELDS):
                raise ValidationError("This version was sent for signature and can no longer change.")
        super().save(*args, **kwargs)


class SignatureRequest(TenantModel):
    """One round of signing for one version: sent, then completed, declined, voided or expired."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for signatures"
        COMPLETED = "completed", "Completed"
        DECLINED = "declined", "Declined"
        VOIDED = "voided", "Voided"
        EXPIRED = "expired", "Expired"

    version = models.ForeignKey(CharterVersion, on_delete=models.CASCADE, related_name="signature_requests")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    sent_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    sent_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    reminder_interval_days = models.PositiveSmallIntegerField(default=3)
    message = models.TextField(blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    close_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-sent_at", "-id"]
        indexes = [models.Index(fields=["organization", "status", "expires_at"], name="sigreq_org_status_exp")]

    def __str__(self):
        return f"Signature request for {self.version}"

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.PENDING and self.expires_at > timezone.now()


class Signer(TenantModel):
    """One executive asked to sign. The lead signs first; supporters are asked once the lead has signed."""

    class Role(models.TextChoices):
        LEAD = "lead", "Lead executive"
        SUPPORTER = "supporter", "Supporting executive"

    class Status(models.TextChoices):
        WAITING = "waiting", "Waits for the lead executive"
        PENDING = "pending", "Asked to sign"
        SIGNED = "signed", "Signed"
        DECLINED = "declined", "Declined"
        CANCELLED = "cancelled", "No longer asked"

    class Method(models.TextChoices):
        TYPED = "typed", "Typed"
        DRAWN = "drawn", "Drawn"

    request = models.ForeignKey(SignatureRequest, on_delete=models.CASCADE, related_name="signers")
    membership = models.ForeignKey(Membership, on_delete=models.RESTRICT, related_name="+")
    role = models.CharField(max_length=10, choices=Role.choices)
    position = models.PositiveSmallIntegerField(default=0)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.WAITING)
    asked_at = models.DateTimeField(null=True, blank=True)
    mailed_at = models.DateTimeField(null=True, blank=True)
    next_reminder_at = models.DateTimeField(null=True, blank=True)
    reminders_sent = models.PositiveSmallIntegerField(default=0)
    opened_at = models.DateTimeField(null=True, blank=True)
    # The signature itself, as recorded at the moment of signing.
    signer_name = models.CharField(max_length=150, blank=True)
    signer_title = models.CharField(max_length=120, blank=True)
    signed_at = models.DateTimeField(null=True, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=500, blank=True)
    version_hash = models.CharField(max_length=64, blank=True)
    consent_text = models.TextField(blank=True)
    method = models.CharField(max_length=5, choices=Method.choices, blank=True)
    typed_name = models.CharField(max_length=100, blank=True)
    signature_svg = models.TextField(blank=True, help_text="Built by the server from the drawn strokes.")
    declined_at = models.DateTimeField(null=True, blank=True)
    decline_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["request", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "request", "membership"], name="signer_unique_per_request")
        ]
        indexes = [models.Index(fields=["organization", "status", "next_reminder_at"], name="signer_org_due")]

    def __str__(self):
        return f"{self.membership.user} ({self.get_role_display()})"


class CharterEvent(TenantModel):
    """The charter's own audit trail, shown on its pages and in the PDF certificate."""

    # What the trail says for each verb; a verb missing here shows as it is stored.
    LABELS = {
        "created": "Created",
        "edited": "Draft edited",
        "matrix_edited": "Behaviors matrix edited",
        "amended": "Amendment started",
        "draft_discarded": "Draft discarded",
        "sent": "Sent for signature",
        "reminded": "Reminded to sign",
        "opened": "Opened the signing page",
        "consented": "Agreed to sign electronically",
        "signed": "Signed",
        "declined": "Declined to sign",
        "voided": "Signature request voided",
        "expired": "Signature request expired",
        "completed": "Every signature in: in force",
        "verified": "Signatures verified",
        "downloaded": "PDF downloaded",
        "viewed": "Read",
        "acknowledged": "Acknowledged",
        "callout": "Behavior call-out recorded",
    }

    charter = models.ForeignKey(Charter, on_delete=models.CASCADE, related_name="events")
    version = models.ForeignKey(CharterVersion, null=True, blank=True, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=254, blank=True)
    verb = models.CharField(max_length=40)
    detail = models.JSONField(default=dict, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["organization", "charter", "created_at"], name="charter_event_org_charter")]

    def __str__(self):
        return f"{self.actor_label or 'System'} {self.verb}"

    @property
    def label(self) -> str:
        return self.LABELS.get(self.verb, self.verb)


class Acknowledgment(TenantModel):
    """One member and one version in force: told by mail, reminded once, and their "I have read
    this and will act on it". Rows are made for every active member when the version comes into
    force, so each mail is claimed once per person (see services.mail_in_force_notice)."""

    version = models.ForeignKey(CharterVersion, on_delete=models.CASCADE, related_name="acknowledgments")
    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="+")
    notified_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-acknowledged_at"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "version", "membership"], name="ack_unique_per_member")
        ]
        indexes = [
            models.Index(fields=["organization", "acknowledged_at", "reminded_at"], name="ack_org_reminder"),
        ]

    def __str__(self):
        return f"{self.membership.user} and {self.version}"


class Callout(TenantModel):
    """Someone showed a behavior from the matrix (kudos), or one the charter does not endorse (flag)."""

    class Kind(models.TextChoices):
        KUDOS = "kudos", "Kudos"
        FLAG = "flag", "Flag"

    charter = models.ForeignKey(Charter, on_delete=models.CASCADE, related_name="callouts")
    version = models.ForeignKey(CharterVersion, on_delete=models.RESTRICT, related_name="callouts")
    kind = models.CharField(max_length=5, choices=Kind.choices)
    # The behavior's stable key in the matrix, plus its column and text as they read when called out.
    behavior_key = models.CharField(max_length=40, blank=True)
    column_key = models.CharField(max_length=40, blank=True)
    column_name = models.CharField(max_length=60, blank=True)
    behavior_text = models.TextField(blank=True)
    subject = models.ForeignKey(Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    unit = models.ForeignKey(Unit, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    author = models.ForeignKey(Membership, null=True, on_delete=models.SET_NULL, related_name="+")
    note = models.TextField()
    client_or_project = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["organization", "created_at"], name="callout_org_created")]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.behavior_text or self.note[:40]}"
