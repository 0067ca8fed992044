"""Feedback: the accounts a firm serves (clients, their contacts, projects), survey templates, batches of
survey requests sent by mail, the clients' responses and the follow-up cases that close the loop.

Read by the metrics app: `Response` is denormalized (client, project, project manager, unit, contact kind)
so that dashboards slice a million responses without joins. Every `Response` row is a submitted answer;
unsubmitted, autosaved answers live on `SurveyRequest.draft_answers`.
"""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from cxprogram.tenancy.models import Membership, TenantModel, Unit

LANGUAGES = [("en", "English"), ("fr", "Français"), ("es", "Español")]


class FeedbackSettings(TenantModel):
    """One row per organization (created on first use with the defaults below)."""

    throttle_days = models.PositiveSmallIntegerField(
        default=90,
        validators=[MinValueValidator(0), MaxValueValidator(730)],
        help_text="A contact gets at most one survey request in this many days, across all projects.",
    )
    reminder_count = models.PositiveSmallIntegerField(
        default=2, validators=[MaxValueValidator(5)], help_text="Reminders to people who have not answered."
    )
    reminder_days = models.JSONField(
        default=list, blank=True, help_text="Days after the first mail on which each reminder goes out, e.g. [4, 9]."
    )
    expiry_days = models.PositiveSmallIntegerField(
        default=30, validators=[MinValueValidator(1), MaxValueValidator(365)], help_text="Survey links close after."
    )
    case_due_business_days = models.PositiveSmallIntegerField(
        default=2, validators=[MinValueValidator(1), MaxValueValidator(30)]
    )
    escalation_days = models.PositiveSmallIntegerField(
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(60)],
        help_text="Days a case may be overdue before it is escalated to the unit leader.",
    )
    webhook_secret = models.CharField(
        max_length=128, blank=True, help_text="Shared secret the mail provider signs bounce notifications with."
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization"], name="feedbacksettings_one_per_org")]

    def __str__(self):
        return f"Feedback settings of {self.organization_id}"

    @property
    def reminder_schedule(self) -> list[int]:
        """Days after the first mail, one per reminder (defaults 4 and 9)."""
        days = list(self.reminder_days or [4, 9])
        while len(days) < self.reminder_count:
            days.append(days[-1] + 5 if days else 4)
        return days[: self.reminder_count]


class Client(TenantModel):
    """A client organization: an account."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        PROSPECT = "prospect", "Prospect"
        INACTIVE = "inactive", "Inactive"

    name = models.CharField(max_length=200)
    industry = models.CharField(max_length=120, blank=True)
    unit = models.ForeignKey(Unit, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    account_owner = models.ForeignKey(Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    tags = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["organization", "name"], name="client_unique_name")]
        indexes = [
            models.Index(fields=["organization", "status"], name="client_org_status"),
            models.Index(fields=["organization", "unit"], name="client_org_unit"),
        ]

    def __str__(self):
        return self.name


class Contact(TenantModel):
    """A person at a client who may be asked for feedback. Emails are stored lower-case."""

    class Kind(models.TextChoices):
        DECISION_MAKER = "decision_maker", "Decision maker"
        INFLUENCER = "influencer", "Influencer"
        USER = "user", "User"

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(max_length=200)
    email = models.EmailField()
    title = models.CharField(max_length=200, blank=True)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.DECISION_MAKER)
    language = models.CharField(max_length=8, choices=LANGUAGES, default="en")
    opted_out_at = models.DateTimeField(null=True, blank=True)
    opted_out_reason = models.CharField(max_length=200, blank=True)
    bounced_at = models.DateTimeField(null=True, blank=True)
    bounce_reason = models.CharField(max_length=300, blank=True)
    soft_bounce_count = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["organization", "email"], name="contact_unique_email")]
        indexes = [models.Index(fields=["organization", "client"], name="contact_org_client")]

    def __str__(self):
        return f"{self.name} <{self.email}>"

    @property
    def mailable(self) -> bool:
        return self.opted_out_at is None and self.bounced_at is None


class Project(TenantModel):
    class Phase(models.TextChoices):
        PURSUIT = "pursuit", "Pursuit"
        PLANNING = "planning", "Planning"
        DESIGN = "design", "Design"
        CONSTRUCTION = "construction", "Construction"
        CLOSEOUT = "closeout", "Closeout"

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        ON_HOLD = "on_hold", "On hold"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"

    code = models.CharField(max_length=40)
    name = models.CharField(max_length=200)
    client = models.ForeignKey(Client, on_delete=models.RESTRICT, related_name="projects")
    project_manager = models.ForeignKey(Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    unit = models.ForeignKey(Unit, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    phase = models.CharField(max_length=16, choices=Phase.choices, default=Phase.DESIGN)
    start_date = models.DateField(null=True, blank=True)
    end_date = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "code"], name="project_unique_code"),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True)
                | Q(start_date__isnull=True)
                | Q(end_date__gte=models.F("start_date")),
                name="project_end_after_start",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "client"], name="project_org_client"),
            models.Index(fields=["organization", "project_manager"], name="project_org_pm"),
            models.Index(fields=["organization", "status"], name="project_org_status"),
        ]

    def __str__(self):
        return f"{self.code} · {self.name}"


class SurveyTemplate(TenantModel):
    """A named survey. Its questions live in immutable versions; editing makes a new version, and a sent
    batch keeps the version it was sent with."""

    name = models.CharField(max_length=120)
    description = models.CharField(max_length=300, blank=True)
    phase = models.CharField(
        max_length=16, choices=Project.Phase.choices, blank=True, help_text="Suggested for projects in this phase."
    )
    is_default = models.BooleanField(default=False)
    current_version = models.ForeignKey(
        "SurveyTemplateVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    archived_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-is_default", "name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="surveytemplate_unique_name"),
            models.UniqueConstraint(
                fields=["organization"], condition=Q(is_default=True), name="surveytemplate_one_default"
            ),
        ]

    def __str__(self):
        return self.name


class QuestionKind(models.TextChoices):
    NPS = "nps", "Likelihood to recommend (0-10)"
    RATING = "rating", "Rating scale"
    SINGLE_CHOICE = "single_choice", "Single choice"
    MULTIPLE_CHOICE = "multiple_choice", "Multiple choice"
    SHORT_TEXT = "short_text", "Short text"
    LONG_TEXT = "long_text", "Long text"
    FOLLOW_UP_CONSENT = "follow_up_consent", "May we follow up with you?"


class SurveyTemplateVersion(TenantModel):
    """`questions` is a list of dicts: {"key", "kind" (QuestionKind), "required", "text": {lang: str},
    and per kind "scale_min"/"scale_max"/"low_label"/"high_label" ({lang: str}) or "choices":
    [{"value", "label": {lang: str}}]}. `languages` lists the languages every text is given in."""

    template = models.ForeignKey(SurveyTemplate, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    questions = models.JSONField(default=list)
    languages = models.JSONField(default=list)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["template", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "template", "number"], name="templateversion_unique_number")
        ]

    def __str__(self):
        return f"{self.template.name} v{self.number}"

    def question(self, key: str) -> dict | None:
        return next((q for q in self.questions if q.get("key") == key), None)


class Batch(TenantModel):
    """One ask for feedback: a set of contacts on one or more projects, sent now or at `send_at`."""

    class State(models.TextChoices):
        DRAFT = "draft", "Draft"
        SCHEDULED = "scheduled", "Scheduled"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        CLOSED = "closed", "Closed"
        CANCELLED = "cancelled", "Cancelled"

    name = models.CharField(max_length=200)
    projects = models.ManyToManyField(Project, through="BatchProject", related_name="batches")
    template_version = models.ForeignKey(SurveyTemplateVersion, on_delete=models.RESTRICT, related_name="batches")
    personal_message = models.TextField(blank=True)
    sender = models.ForeignKey(Membership, on_delete=models.RESTRICT, related_name="+")
    reply_to = models.EmailField()
    send_at = models.DateTimeField(null=True, blank=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.DRAFT)
    request_count = models.PositiveIntegerField(default=0)
    skipped_count = models.PositiveIntegerField(default=0)
    sent_count = models.PositiveIntegerField(default=0)
    failed_count = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["organization", "state", "send_at"], name="batch_org_state_sendat"),
            models.Index(fields=["organization", "sender", "state"], name="batch_org_sender_state"),
        ]

    def __str__(self):
        return self.name

    @property
    def in_flight(self) -> bool:
        return self.state in (self.State.SCHEDULED, self.State.SENDING)


class BatchProject(TenantModel):
    batch = models.ForeignKey(Batch, on_delete=models.CASCADE, related_name="batch_projects")
    project = models.ForeignKey(Project, on_delete=models.RESTRICT, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "batch", "project"], name="batchproject_unique")]
        # A project's batches: when it was last asked (the batch form).
        indexes = [models.Index(fields=["organization", "project"], name="batchproject_org_project")]


class BatchContact(TenantModel):
    """A contact picked for a batch, with the project the request will be about. `skip_reason` is set when
    the batch goes out and the contact is left out (opted out, bounced, surveyed recently)."""

    class SkipReason(models.TextChoices):
        OPTED_OUT = "opted_out", "Opted out"
        BOUNCED = "bounced", "Email bounced"
        THROTTLED = "throttled", "Surveyed recently"

    batch = models.ForeignKey(Batch, on_delete=models.CASCADE, related_name="batch_contacts")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="+")
    project = models.ForeignKey(Project, on_delete=models.RESTRICT, related_name="+")
    skip_reason = models.CharField(max_length=16, choices=SkipReason.choices, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "batch", "contact"], name="batchcontact_unique")]


class SurveyRequest(TenantModel):
    """One mail to one contact about one project. Sent exactly once: a worker claims it (queued →
    sending with a fresh `claim_id`) and the switch to sent is a conditional update on that claim.
    The link's token is derived from `nonce` (core.tokens); only its hash is stored."""

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        BOUNCED = "bounced", "Bounced"

    batch = models.ForeignKey(Batch, on_delete=models.CASCADE, related_name="requests")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="requests")
    project = models.ForeignKey(Project, on_delete=models.RESTRICT, related_name="requests")
    state = models.CharField(max_length=16, choices=State.choices, default=State.QUEUED)
    nonce = models.CharField(max_length=32)
    token_hash = models.CharField(max_length=64)
    claim_id = models.CharField(max_length=32, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True, db_index=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=300, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    message_id = models.CharField(max_length=200, blank=True)
    reminders_sent = models.PositiveSmallIntegerField(default=0)
    next_reminder_at = models.DateTimeField(null=True, blank=True, db_index=True)
    last_reminded_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    responded_at = models.DateTimeField(null=True, blank=True)
    draft_answers = models.JSONField(default=dict, blank=True)
    draft_saved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "batch", "contact"], name="surveyrequest_one_per_batch")
        ]
        indexes = [
            models.Index(fields=["organization", "batch", "state"], name="request_org_batch_state"),
            # The send queue: claims take the next queued rows in order without sorting the whole batch.
            models.Index(
                fields=["organization", "batch", "id"], condition=Q(state="queued"), name="request_org_batch_queued"
            ),
            models.Index(fields=["organization", "contact", "sent_at"], name="request_org_contact_sent"),
            models.Index(fields=["organization", "project"], name="request_org_project"),
            # The link look-up, before the organization is known. A plain b-tree: db_index on a
            # CharField would add a second, pattern-ops copy that no query uses but every write updates.
            models.Index(fields=["token_hash"], name="request_token_hash"),
        ]

    def __str__(self):
        return f"Request {self.pk} to {self.contact_id}"


class Response(TenantModel):
    """A submitted answer to a survey request (one per request; submitting again updates it)."""

    request = models.OneToOneField(SurveyRequest, on_delete=models.CASCADE, related_name="response")
    batch = models.ForeignKey(Batch, on_delete=models.CASCADE, related_name="responses")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="responses")
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="responses")
    project = models.ForeignKey(Project, on_delete=models.RESTRICT, related_name="responses")
    project_manager = models.ForeignKey(Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    unit = models.ForeignKey(Unit, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    contact_kind = models.CharField(max_length=16, choices=Contact.Kind.choices)
    template_version = models.ForeignKey(SurveyTemplateVersion, on_delete=models.RESTRICT, related_name="+")
    language = models.CharField(max_length=8, choices=LANGUAGES, default="en")
    nps_score = models.PositiveSmallIntegerField(null=True, blank=True, validators=[MaxValueValidator(10)])
    answers = models.JSONField(default=dict)
    follow_up_requested = models.BooleanField(default=False)
    submitted_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    thank_you_approved_by = models.ForeignKey(
        Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    thank_you_sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-submitted_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(nps_score__isnull=True) | Q(nps_score__lte=10), name="response_nps_0_10"
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "client", "submitted_at"], name="response_org_client_sub"),
            models.Index(fields=["organization", "project", "submitted_at"], name="response_org_project_sub"),
            models.Index(fields=["organization", "project_manager", "submitted_at"], name="response_org_pm_sub"),
            models.Index(fields=["organization", "unit", "submitted_at"], name="response_org_unit_sub"),
            models.Index(fields=["organization", "contact", "submitted_at"], name="response_org_contact_sub"),
            # Also serves every look-up by (organization, submitted_at): an index on those two alone would be a copy.
            models.Index(fields=["organization", "submitted_at", "nps_score"], name="response_org_sub_nps"),
        ]

    def __str__(self):
        return f"Response {self.pk} ({self.nps_score if self.nps_score is not None else '–'})"

    @property
    def nps_category(self) -> str:
        if self.nps_score is None:
            return ""
        return "promoter" if self.nps_score >= 9 else "passive" if self.nps_score >= 7 else "detractor"


class FollowUpCase(TenantModel):
    """Closing the loop on an unhappy (or follow-up-requested) response."""

    class State(models.TextChoices):
        OPEN = "open", "Open"
        IN_PROGRESS = "in_progress", "In progress"
        RESOLVED = "resolved", "Resolved"

    class Trigger(models.TextChoices):
        DETRACTOR = "detractor", "Detractor score"
        LOW_RATING = "low_rating", "Low rating"
        FOLLOW_UP_REQUESTED = "follow_up_requested", "Asked to be contacted"

    class RootCause(models.TextChoices):
        COMMUNICATION = "communication", "Communication"
        SCHEDULE = "schedule", "Schedule"
        QUALITY = "quality", "Quality of work"
        BUDGET = "budget", "Budget / fees"
        STAFFING = "staffing", "Staffing"
        RESPONSIVENESS = "responsiveness", "Responsiveness"
        OTHER = "other", "Other"

    response = models.OneToOneField(Response, on_delete=models.CASCADE, related_name="case")
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="cases")
    project = models.ForeignKey(Project, on_delete=models.RESTRICT, related_name="cases")
    unit = models.ForeignKey(Unit, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    owner = models.ForeignKey(Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    trigger = models.CharField(max_length=24, choices=Trigger.choices)
    state = models.CharField(max_length=16, choices=State.choices, default=State.OPEN)
    due_at = models.DateTimeField()
    notes = models.TextField(blank=True)
    outcome = models.TextField(blank=True)
    root_cause = models.CharField(max_length=16, choices=RootCause.choices, blank=True)
    alerted_at = models.DateTimeField(null=True, blank=True)
    last_reminded_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    escalated_to = models.ForeignKey(Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_at"]
        indexes = [
            models.Index(fields=["organization", "state", "due_at"], name="case_org_state_due"),
            models.Index(fields=["organization", "owner", "state"], name="case_org_owner_state"),
            models.Index(fields=["organization", "created_at"], name="case_org_created"),
        ]

    def __str__(self):
        return f"Case {self.pk}"

    @property
    def is_overdue(self) -> bool:
        return self.state != self.State.RESOLVED and self.due_at < timezone.now()


class ImportJob(TenantModel):
    """A CSV import: the file's text, the column mapping, the row-by-row report, and progress."""

    class Kind(models.TextChoices):
        CLIENTS = "clients", "Clients"
        CONTACTS = "contacts", "Contacts"
        PROJECTS = "projects", "Projects"

    class State(models.TextChoices):
        UPLOADED = "uploaded", "Uploaded"
        INVALID = "invalid", "Has errors"
        VALID = "valid", "Ready to import"
        IMPORTING = "importing", "Importing"
        DONE = "done", "Imported"
        FAILED = "failed", "Failed"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    state = models.CharField(max_length=16, choices=State.choices, default=State.UPLOADED)
    filename = models.CharField(max_length=255)
    size = models.PositiveIntegerField(default=0)
    content = models.TextField()
    header = models.JSONField(default=list)
    mapping = models.JSONField(default=dict, blank=True)
    row_count = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    report = models.JSONField(default=list, blank=True)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["organization", "-created_at"], name="importjob_org_created")]

    def __str__(self):
        return f"{self.get_kind_display()} import {self.filename}"

    @property
    def progress_percent(self) -> int:
        return int(100 * self.processed_rows / self.row_count) if self.row_count else 0
