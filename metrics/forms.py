from datetime import date

from django import forms

from cxprogram.tenancy.models import Membership, Unit
from cxprogram.tenancy.permissions import Role
from feedback.models import Client, Contact, SurveyTemplate

from . import adoption
from .models import BoardReport, MetricsSettings, MetricTarget, ProposalRecord
from .selectors import Period, Slice, add_months, month_start


class MemberChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.user.display_name


class MonthField(forms.DateField):
    """A month as YYYY-MM (the browser's month input); the first day of that month."""

    widget = forms.DateInput(attrs={"type": "month"}, format="%Y-%m")
    input_formats = ["%Y-%m", "%Y-%m-%d"]

    def to_python(self, value):
        result = super().to_python(value)
        return month_start(result) if result else result


PERIOD_CHOICES = [("3", "Last 3 months"), ("6", "Last 6 months"), ("12", "Last 12 months"), ("24", "Last 24 months")]


class FilterForm(forms.Form):
    """The dashboards' filters: a period (the last N months, or from/to months) and a slice. Bad values are
    ignored (the defaults apply), so a hand-edited URL never breaks a page."""

    months = forms.ChoiceField(choices=PERIOD_CHOICES, required=False, initial="12", label="Period")
    start = MonthField(required=False, label="From month")
    end = MonthField(required=False, label="To month")
    unit = forms.ModelChoiceField(queryset=Unit.objects.none(), required=False, empty_label="All units")
    project_manager = MemberChoiceField(
        queryset=Membership.objects.none(), required=False, empty_label="All project managers"
    )
    template = forms.ModelChoiceField(queryset=SurveyTemplate.objects.none(), required=False, empty_label="All surveys")
    tag = forms.CharField(required=False, max_length=60, label="Client tag")
    kind = forms.ChoiceField(
        choices=[("", "All contacts"), *Contact.Kind.choices], required=False, label="Contact kind"
    )
    grain = forms.ChoiceField(choices=[("month", "By month"), ("quarter", "By quarter")], required=False)

    def __init__(self, data, *, organization, today: date):
        super().__init__(data)
        self.organization, self.today = organization, today
        self.fields["unit"].queryset = Unit.objects.for_org(organization).select_related("parent")
        self.fields["project_manager"].queryset = (
            Membership.objects.for_org(organization).with_role(Role.PROJECT_MANAGER).select_related("user")
        )
        self.fields["template"].queryset = SurveyTemplate.objects.for_org(organization)

    @property
    def period(self) -> Period:
        data = self.cleaned_data if self.is_valid() else {}
        start, end = data.get("start"), data.get("end")
        if start and end and start <= end:
            return Period.months(start, end)
        if start and not end:
            return Period.months(start, self.today)
        return Period.last_months(int(data.get("months") or 12), self.today)

    @property
    def slice(self) -> Slice:
        data = self.cleaned_data if self.is_valid() else {}
        return Slice(
            unit_id=data["unit"].pk if data.get("unit") else None,
            project_manager_id=data["project_manager"].pk if data.get("project_manager") else None,
            template_id=data["template"].pk if data.get("template") else None,
            client_tag=(data.get("tag") or "").strip(),
            contact_kind=data.get("kind") or "",
        )

    @property
    def chosen_grain(self) -> str:
        data = self.cleaned_data if self.is_valid() else {}
        return data.get("grain") or "month"


class SettingsForm(forms.ModelForm):
    class Meta:
        model = MetricsSettings
        fields = ["min_n", "gross_margin", "account_convention", "currency", "board_report_monthly"]


class TargetForm(forms.ModelForm):
    owner = MemberChoiceField(queryset=Membership.objects.none(), required=False)

    class Meta:
        model = MetricTarget
        fields = ["metric", "unit", "target", "warning", "starts_on", "ends_on", "owner", "note"]
        widgets = {
            "starts_on": forms.DateInput(attrs={"type": "date"}),
            "ends_on": forms.DateInput(attrs={"type": "date"}),
        }

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = Unit.objects.for_org(organization)
        self.fields["unit"].empty_label = "The whole organization"
        self.fields["owner"].queryset = Membership.objects.for_org(organization).active().select_related("user")
        if not self.instance.pk:
            today = date.today()
            self.initial.setdefault("starts_on", date(today.year, 1, 1))
            self.initial.setdefault("ends_on", date(today.year, 12, 31))


class RevenueForm(forms.Form):
    client = forms.ModelChoiceField(queryset=Client.objects.none())
    month = MonthField()
    amount = forms.DecimalField(max_digits=14, decimal_places=2, min_value=0)

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["client"].queryset = Client.objects.for_org(organization)


class ProposalForm(forms.ModelForm):
    class Meta:
        model = ProposalRecord
        fields = ["reference", "title", "client", "prospect", "unit", "value", "submitted_on", "outcome", "decided_on"]
        widgets = {
            "submitted_on": forms.DateInput(attrs={"type": "date"}),
            "decided_on": forms.DateInput(attrs={"type": "date"}),
        }

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["client"].queryset = Client.objects.for_org(organization)
        self.fields["unit"].queryset = Unit.objects.for_org(organization)

    def validate_unique(self):
        pass  # the service checks the reference within the organization


class ImportForm(forms.Form):
    file = forms.FileField(help_text="A CSV file (UTF-8), at most 5 MB, with a header row.")


class AdoptionSurveyForm(forms.Form):
    quarter = MonthField(help_text="Any month of the quarter the assessment measures.")
    closes_on = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, today: date, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial.setdefault("quarter", today)
        self.initial.setdefault("closes_on", add_months(today, 1))


class AdoptionAnswerForm(forms.Form):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for key, label, statement in adoption.DIMENSIONS:
            self.fields[key] = forms.TypedChoiceField(
                label=f"{label}: {statement}",
                choices=adoption.SCALE,
                coerce=int,
                widget=forms.RadioSelect,
            )


class BoardReportForm(forms.ModelForm):
    period_start = MonthField(label="From month")
    period_end = MonthField(label="To month")

    class Meta:
        model = BoardReport
        fields = ["period_start", "period_end", "commentary"]

    def validate_unique(self):
        pass  # the service says which report already covers the period
