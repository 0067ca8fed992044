from django import forms

from .models import TIME_ZONE_CHOICES, Membership, Organization, Unit
from .permissions import Role


class RolesField(forms.MultipleChoiceField):
    widget = forms.CheckboxSelectMultiple

    def __init__(self, **kwargs):
        kwargs.setdefault("choices", Role.choices)
        kwargs.setdefault("error_messages", {"required": "Choose at least one role."})
        super().__init__(**kwargs)


class OrganizationCreateForm(forms.Form):
    name = forms.CharField(label="Organization name", max_length=120)
    time_zone = forms.ChoiceField(
        choices=TIME_ZONE_CHOICES, initial="UTC", help_text="Reminders and digests follow this time zone."
    )


class OrganizationForm(forms.ModelForm):
    class Meta:
        model = Organization
        fields = ["name", "slug", "time_zone", "fiscal_year_start_month", "logo", "require_two_factor"]
        labels = {"slug": "Address", "fiscal_year_start_month": "Fiscal year starts in"}
        help_texts = {"slug": "Your pages live under /o/<address>/. Changing it breaks old links."}
        error_messages = {"slug": {"unique": "This address is already taken. Choose another."}}

    def clean_logo(self):
        logo = self.cleaned_data.get("logo")
        if logo and hasattr(logo, "size") and logo.size > 1024 * 1024:
            raise forms.ValidationError("The logo must be smaller than 1 MB.")
        return logo


class UnitForm(forms.Form):
    name = forms.CharField(max_length=120)
    parent = forms.ModelChoiceField(
        queryset=Unit.objects.none(), required=False, label="Part of", empty_label="— top level —"
    )

    def __init__(self, *args, organization, unit=None, **kwargs):
        super().__init__(*args, **kwargs)
        parents = Unit.objects.for_org(organization).filter(parent__isnull=True)
        if unit is not None:
            parents = parents.exclude(pk=unit.pk)
        self.fields["parent"].queryset = parents


class InvitationForm(forms.Form):
    email = forms.EmailField(error_messages={"invalid": "Enter a valid email address, like name@example.com."})
    roles = RolesField(initial=[Role.STAFF])
    unit = forms.ModelChoiceField(queryset=Unit.objects.none(), required=False, empty_label="— no unit —")

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = Unit.objects.for_org(organization).select_related("parent")


class MembershipForm(forms.ModelForm):
    roles = RolesField()

    class Meta:
        model = Membership
        fields = ["roles", "unit", "title"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = Unit.objects.for_org(self.instance.organization).select_related("parent")
        self.fields["unit"].empty_label = "— no unit —"


class AuditFilterForm(forms.Form):
    actor = forms.ModelChoiceField(queryset=Membership.objects.none(), required=False, empty_label="Anyone")
    verb = forms.ChoiceField(required=False, label="Action")
    date_from = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, organization, verbs, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["actor"].queryset = Membership.objects.for_org(organization).select_related("user")
        self.fields["actor"].label_from_instance = lambda m: m.user.display_name
        self.fields["verb"].choices = [("", "Any action")] + [(v, v) for v in verbs]

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", "The end date is before the start date.")
        return data
