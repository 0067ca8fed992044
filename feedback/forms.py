from django import forms
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from cxprogram.tenancy.models import Membership, Unit
from cxprogram.tenancy.permissions import Role

from .models import (
    Batch,
    BatchProject,
    Client,
    Contact,
    FeedbackSettings,
    FollowUpCase,
    ImportJob,
    Project,
    SurveyTemplate,
)


def _members(organization, role=None):
    members = Membership.objects.for_org(organization).active().select_related("user")
    return members.with_role(role) if role else members


class MemberChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.user.display_name


class TenantFormMixin:
    """Limit every related choice to the organization's own rows."""

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.organization = organization
        for name, field in self.fields.items():
            if name in ("unit",):
                field.queryset = Unit.objects.for_org(organization)
            elif name in ("account_owner", "owner"):
                field.queryset = _members(organization)
            elif name == "project_manager":
                field.queryset = _members(organization, Role.PROJECT_MANAGER)
            elif name == "client":
                field.queryset = Client.objects.for_org(organization)


class ClientForm(TenantFormMixin, forms.ModelForm):
    account_owner = MemberChoiceField(queryset=Membership.objects.none(), required=False)
    tags = forms.CharField(required=False, help_text="Separate tags with commas.")

    class Meta:
        model = Client
        fields = ["name", "industry", "unit", "account_owner", "status", "tags"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["tags"] = ", ".join(self.instance.tags)

    def clean_tags(self):
        return [t.strip() for t in self.cleaned_data["tags"].split(",") if t.strip()]


class ContactForm(TenantFormMixin, forms.ModelForm):
    class Meta:
        model = Contact
        fields = ["client", "name", "email", "title", "kind", "language"]


class ProjectForm(TenantFormMixin, forms.ModelForm):
    project_manager = MemberChoiceField(queryset=Membership.objects.none(), required=False)

    class Meta:
        model = Project
        fields = ["code", "name", "client", "project_manager", "unit", "phase", "start_date", "end_date", "status"]
        widgets = {
            "start_date": forms.DateInput(attrs={"type": "date"}),
            "end_date": forms.DateInput(attrs={"type": "date"}),
        }


class SettingsForm(forms.ModelForm):
    reminder_days = forms.CharField(
        required=False, help_text="Days after the first mail for each reminder, separated by commas (e.g. 4, 9)."
    )

    class Meta:
        model = FeedbackSettings
        fields = [
            "throttle_days",
            "reminder_count",
            "reminder_days",
            "expiry_days",
            "case_due_business_days",
            "escalation_days",
            "webhook_secret",
        ]
        widgets = {"webhook_secret": forms.PasswordInput(render_value=True)}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial["reminder_days"] = ", ".join(str(d) for d in self.instance.reminder_schedule)

    def clean_reminder_days(self):
        raw = self.cleaned_data["reminder_days"]
        try:
            return [int(x) for x in raw.replace(" ", "").split(",") if x]
        except ValueError:
            raise forms.ValidationError("Use whole numbers separated by commas.")


class ImportUploadForm(forms.Form):
    kind = forms.ChoiceField(choices=ImportJob.Kind.choices, label="What the file holds")
    file = forms.FileField(help_text="A CSV file (comma or semicolon separated, UTF-8), at most 10 MB.")


class BatchForm(forms.Form):
    projects = forms.ModelMultipleChoiceField(queryset=Project.objects.none(), widget=forms.CheckboxSelectMultiple)
    contacts = forms.ModelMultipleChoiceField(
        queryset=Contact.objects.none(), widget=forms.CheckboxSelectMultiple, required=False
    )
    template = forms.ModelChoiceField(queryset=SurveyTemplate.objects.none(), empty_label=None)
    personal_message = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), required=False)
    reply_to = forms.EmailField(help_text="Replies to the survey mail go here.")

    def __init__(self, *args, organization, membership, project_ids=(), **kwargs):
        super().__init__(*args, **kwargs)
        last_asked = (
            BatchProject.objects.for_org(organization)
            .filter(project=OuterRef("pk"), batch__started_at__isnull=False)
            .exclude(batch__state=Batch.State.CANCELLED)
            .order_by("-batch__started_at")
            .values("batch__started_at")[:1]
        )
        projects = (
            Project.objects.for_org(organization)
            .exclude(status=Project.Status.CANCELLED)
            .select_related("client")
            .annotate(last_asked=Subquery(last_asked))
        )
        if not membership.can("feedback.manage"):
            projects = projects.filter(project_manager=membership)
        self.fields["projects"].queryset = projects
        chosen = [p for p in projects if str(p.pk) in {str(i) for i in project_ids}]
        self.fields["contacts"].queryset = (
            Contact.objects.for_org(organization)
            .filter(client__in={p.client_id for p in chosen})
            .select_related("client")
            .order_by("client__name", "name")
        )
        self.fields["template"].queryset = SurveyTemplate.objects.for_org(organization).filter(archived_at__isnull=True)
        self.fields["reply_to"].initial = membership.user.email


class ScheduleForm(forms.Form):
    send_at = forms.DateTimeField(
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}), help_text="In the organization's time zone."
    )

    def __init__(self, *args, tz, **kwargs):
        super().__init__(*args, **kwargs)
        self.tz = tz

    def clean_send_at(self):
        value = self.cleaned_data["send_at"]
        return value.replace(tzinfo=self.tz) if timezone.is_naive(value) else value


class CaseForm(TenantFormMixin, forms.ModelForm):
    owner = MemberChoiceField(queryset=Membership.objects.none(), required=False)

    class Meta:
        model = FollowUpCase
        fields = ["owner", "state", "notes", "outcome", "root_cause"]
        widgets = {"notes": forms.Textarea(attrs={"rows": 4}), "outcome": forms.Textarea(attrs={"rows": 3})}


class TemplateVersionForm(forms.Form):
    questions = forms.JSONField(
        widget=forms.Textarea(attrs={"rows": 18, "class": "mono"}),
        help_text="The questions as JSON. Saving adds a new version; batches already sent keep theirs.",
    )
