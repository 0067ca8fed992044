"""Forms parse input; the rules (bounds, status flow, limits) live in the services, whose errors the
views show on these forms with `apply_errors`."""

from datetime import datetime, timedelta

from django import forms
from django.utils import timezone

from cxprogram.tenancy.models import Membership, Unit
from feedback.models import FollowUpCase, Response

from .models import (
    BOARD_STATUSES,
    CLOSED_STATUSES,
    Criterion,
    Decision,
    Domain,
    Health,
    Horizon,
    Initiative,
    Program,
    ScoringMethod,
    Source,
)
from .services import RICE_IMPACTS

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def members_of(organization):
    return Membership.objects.for_org(organization).active().select_related("user")


class MemberChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.user.display_name


class MembersChoiceField(forms.ModelMultipleChoiceField):
    widget = forms.CheckboxSelectMultiple

    def label_from_instance(self, obj):
        return f"{obj.user.display_name}" + (f" · {obj.title}" if obj.title else "")


class InitiativeChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.code} {obj.title}"


class IdeaForm(forms.Form):
    title = forms.CharField(max_length=200, label="Your idea in a sentence")
    description = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        label="What happens today, and what should change?",
    )
    domain = forms.ModelChoiceField(queryset=Domain.objects.none(), required=False, empty_label="— not sure —")
    source = forms.ChoiceField(choices=Source.choices, initial=Source.STAFF_IDEA, label="Where it comes from")
    source_reference = forms.CharField(
        max_length=255, required=False, label="Reference", help_text="A client, a project, a survey answer…"
    )
    response = forms.ModelChoiceField(queryset=Response.objects.none(), required=False, widget=forms.HiddenInput)
    case = forms.ModelChoiceField(queryset=FollowUpCase.objects.none(), required=False, widget=forms.HiddenInput)

    def __init__(self, *args, organization, membership, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["domain"].queryset = Domain.objects.for_org(organization).filter(is_active=True)
        # Only people who may read feedback can link an idea to it.
        if membership.can("feedback.view"):
            self.fields["response"].queryset = Response.objects.for_org(organization)
            self.fields["case"].queryset = FollowUpCase.objects.for_org(organization)


class InitiativeForm(forms.Form):
    title = forms.CharField(max_length=200)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 5}), required=False)
    domain = forms.ModelChoiceField(queryset=Domain.objects.none(), required=False, empty_label="— none —")
    source = forms.ChoiceField(choices=Source.choices)
    source_reference = forms.CharField(max_length=255, required=False, label="Reference")
    target_metrics = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        label="Charter metrics it aims to move",
        help_text="One per line, e.g. Net Promoter Score, time to first response.",
    )
    owner = MemberChoiceField(queryset=Membership.objects.none(), required=False, empty_label="— nobody yet —")
    unit = forms.ModelChoiceField(queryset=Unit.objects.none(), required=False, empty_label="— whole firm —")
    horizon = forms.ChoiceField(choices=[("", "— not set —"), *Horizon.choices], required=False)
    target_start = forms.DateField(required=False, widget=DATE)
    target_end = forms.DateField(required=False, widget=DATE)

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["domain"].queryset = Domain.objects.for_org(organization)
        self.fields["owner"].queryset = members_of(organization)
        self.fields["unit"].queryset = Unit.objects.for_org(organization).select_related("parent")

    @classmethod
    def initial_for(cls, initiative: Initiative) -> dict:
        initial = {f: getattr(initiative, f) for f in ("title", "description", "source", "source_reference", "horizon")}
        initial.update(
            domain=initiative.domain_id,
            owner=initiative.owner_id,
            unit=initiative.unit_id,
            target_start=initiative.target_start,
            target_end=initiative.target_end,
            target_metrics="\n".join(initiative.target_metrics),
        )
        return initial

    def changes(self) -> dict:
        data = dict(self.cleaned_data)
        data["target_metrics"] = data["target_metrics"].splitlines()
        return data


class QualifyForm(forms.Form):
    horizon = forms.ChoiceField(choices=Horizon.choices)
    domain = forms.ModelChoiceField(queryset=Domain.objects.none(), required=False, empty_label="— keep —")

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["domain"].queryset = Domain.objects.for_org(organization).filter(is_active=True)


class ReasonForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)


class MergeForm(forms.Form):
    into = InitiativeChoiceField(queryset=Initiative.objects.none(), label="Duplicate of")

    def __init__(self, *args, organization, initiative, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["into"].queryset = (
            Initiative.objects.for_org(organization).exclude(status__in=CLOSED_STATUSES).exclude(pk=initiative.pk)
        )


class RankForm(forms.Form):
    priority = forms.IntegerField(help_text="1 is the most important.")


class ScheduleForm(forms.Form):
    target_start = forms.DateField(widget=DATE)
    target_end = forms.DateField(widget=DATE)


class EmptyForm(forms.Form):
    pass


class ScoreForm(forms.Form):
    customer_benefit = forms.IntegerField(label="Customer benefit (0-10)")
    business_value = forms.IntegerField(label="Business value (0-10)")
    cost = forms.DecimalField(label="Cost", help_text="Money to spend, in the organization's currency.")
    effort_days = forms.DecimalField(label="Effort (person-days)")
    confidence = forms.IntegerField(label="Confidence (%)", initial=80)
    reach = forms.IntegerField(label="Reach (clients per quarter, for RICE)", initial=0)
    impact = forms.TypedChoiceField(
        label="Impact (for RICE)",
        choices=[
            (str(v), label)
            for v, label in zip(RICE_IMPACTS, ("Minimal", "Low", "Medium", "High", "Massive"), strict=True)
        ],
        initial="1",
    )

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.criteria = list(Criterion.objects.for_org(organization))
        for criterion in self.criteria:
            self.fields[f"criterion_{criterion.pk}"] = forms.IntegerField(
                label=f"{criterion.name} (0-10, weight {criterion.weight.normalize():f})", required=False
            )

    def values(self) -> dict:
        data = self.cleaned_data
        values = {
            k: data[k]
            for k in ("customer_benefit", "business_value", "cost", "effort_days", "confidence", "reach", "impact")
        }
        values["criteria"] = {c.pk: data.get(f"criterion_{c.pk}") for c in self.criteria}
        return values


class ChecklistForm(forms.Form):
    text = forms.CharField(max_length=200, label="Done when…")


class DependencyForm(forms.Form):
    blocker = InitiativeChoiceField(queryset=Initiative.objects.none(), label="Depends on")

    def __init__(self, *args, organization, initiative, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["blocker"].queryset = (
            Initiative.objects.for_org(organization)
            .exclude(status__in=CLOSED_STATUSES - {"done"})
            .exclude(pk=initiative.pk)
            .order_by("number")
        )


class TeamForm(forms.Form):
    membership = MemberChoiceField(queryset=Membership.objects.none(), label="Person")
    role = forms.CharField(max_length=80, required=False)

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["membership"].queryset = members_of(organization)


class ActionItemForm(forms.Form):
    title = forms.CharField(max_length=200)
    owner = MemberChoiceField(queryset=Membership.objects.none())
    due_on = forms.DateField(widget=DATE, label="Due")

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = members_of(organization)


class UpdateForm(forms.Form):
    health = forms.ChoiceField(choices=Health.choices, widget=forms.RadioSelect)
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=2000, label="This week")


class RoundForm(forms.Form):
    title = forms.CharField(max_length=200)
    initiatives = forms.ModelMultipleChoiceField(
        queryset=Initiative.objects.none(), widget=forms.CheckboxSelectMultiple, label="Initiatives to rank"
    )
    stakeholders = MembersChoiceField(queryset=Membership.objects.none())
    closes_at = forms.DateTimeField(
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        label="Closes at (your organization's time)",
    )

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.tz = organization.tz
        self.fields["initiatives"].queryset = Initiative.objects.for_org(organization).filter(status__in=BOARD_STATUSES)
        self.fields["initiatives"].label_from_instance = lambda i: f"{i.code} {i.title}"
        self.fields["stakeholders"].queryset = members_of(organization)

    def clean_closes_at(self):
        value: datetime = self.cleaned_data["closes_at"]
        # The browser sends a wall-clock time: it is the organization's.
        return value.replace(tzinfo=None).replace(tzinfo=self.tz) if value else value


class BoardMembersForm(forms.Form):
    members = MembersChoiceField(queryset=Membership.objects.none(), required=False, label="Board members")

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["members"].queryset = members_of(organization)


class LimitsForm(forms.Form):
    capacity_person_days_per_month = forms.DecimalField(required=False, label="Capacity (person-days per month)")
    budget_per_quarter = forms.DecimalField(required=False, label="Budget per fiscal quarter")


class BoardScheduleForm(forms.ModelForm):
    class Meta:
        model = Program
        fields = ["board_week", "board_weekday", "board_time", "agenda_lead_days"]
        labels = {
            "board_week": "Week of the month",
            "board_weekday": "Day",
            "board_time": "Time (organization's time zone)",
            "agenda_lead_days": "Mail the agenda this many days ahead",
        }
        widgets = {"board_time": forms.TimeInput(attrs={"type": "time"}, format="%H:%M")}


class ScoringMethodForm(forms.Form):
    scoring_method = forms.ChoiceField(choices=ScoringMethod.choices, widget=forms.RadioSelect, label="Scoring method")


class CriterionForm(forms.Form):
    name = forms.CharField(max_length=80)
    weight = forms.DecimalField()


class DomainForm(forms.Form):
    name = forms.CharField(max_length=80, label="New domain")


class AttendanceForm(forms.Form):
    present = MembersChoiceField(queryset=Membership.objects.none(), required=False, label="Present")

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["present"].queryset = members_of(organization)


class DecisionForm(forms.Form):
    outcome = forms.ChoiceField(
        choices=[
            (Decision.Outcome.APPROVE, "Approve"),
            (Decision.Outcome.DEFER, "Defer"),
            (Decision.Outcome.REJECT, "Reject"),
        ],
        widget=forms.RadioSelect,
    )
    deadline = forms.DateField(required=False, widget=DATE)
    owner = MemberChoiceField(queryset=Membership.objects.none(), required=False, empty_label="— choose —")
    person_days = forms.DecimalField(required=False, label="Person-days")
    budget = forms.DecimalField(required=False)
    note = forms.CharField(required=False, label="Note or reason (defer, reject)")
    override_reason = forms.CharField(required=False, label="Reason to exceed the strategy limits")

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = members_of(organization)


class CloseMeetingForm(forms.Form):
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)


def default_round_close(organization) -> str:
    local = timezone.localtime(timezone.now() + timedelta(days=7), organization.tz)
    return local.replace(hour=17, minute=0).strftime("%Y-%m-%dT%H:%M")
