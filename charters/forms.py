import json

from django import forms

from cxprogram.tenancy.models import Membership
from cxprogram.tenancy.permissions import Role

from . import content as doc
from .models import Callout, Charter, CharterSettings, Signer


class CharterCreateForm(forms.Form):
    title = forms.CharField(
        max_length=doc.MAX_TITLE,
        widget=forms.TextInput(attrs={"placeholder": "e.g. Client Listening and Client Experience Charter"}),
    )
    kind = forms.ChoiceField(
        choices=Charter.Kind.choices,
        widget=forms.RadioSelect,
        initial=Charter.Kind.PROGRAM,
        help_text="A program charter declares the whole CX program; a team charter sets up one team "
        "(what it does and does not do, success criteria, skills).",
    )


class PhaseForm(forms.Form):
    name = forms.CharField(required=False, widget=forms.TextInput(attrs={"placeholder": "Phase name"}))
    status = forms.ChoiceField(choices=list(doc.PHASE_STATUSES.items()), initial="planned")
    description = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "What this phase delivers, in a sentence or two"}),
    )


class ResponsibilityForm(forms.Form):
    group = forms.CharField(
        required=False, widget=forms.TextInput(attrs={"placeholder": "Group or role, e.g. Project managers"})
    )
    responsibilities = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "What this group will do for the program"}),
    )


class MetricForm(forms.Form):
    key = forms.CharField(required=False, widget=forms.HiddenInput)
    kind = forms.ChoiceField(choices=list(doc.METRIC_KINDS.items()), initial="behavior")
    name = forms.CharField(required=False, widget=forms.TextInput(attrs={"placeholder": "e.g. Feedback participation"}))
    definition = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "How it is counted, from which data"}),
    )
    target = forms.CharField(required=False, widget=forms.TextInput(attrs={"placeholder": "e.g. 60% of projects"}))


ROW_FORMS = {"phases": PhaseForm, "responsibilities": ResponsibilityForm, "metrics": MetricForm}


def _formset(section_type: str):
    return forms.formset_factory(
        ROW_FORMS[section_type], extra=1, can_delete=True, can_order=True, max_num=doc.MAX_ROWS, absolute_max=200
    )


class SectionsForm(forms.Form):
    """Title and text sections of a draft; list sections come as formsets (see DraftEditor)."""

    title = forms.CharField(max_length=doc.MAX_TITLE)
    revision = forms.IntegerField(widget=forms.HiddenInput)
    base = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, kind: str, **kwargs):
        super().__init__(*args, **kwargs)
        for section in doc.sections_for(kind):
            if section.type == "text":
                self.fields[section.key] = forms.CharField(
                    label=section.label,
                    required=False,
                    strip=False,
                    widget=forms.Textarea(attrs={"rows": 4, "placeholder": section.guidance}),
                    help_text="Markdown: **bold**, *italic*, lists with “-”, links as [text](https://…).",
                )
            elif section.type == "bullets":
                self.fields[section.key] = forms.CharField(
                    label=section.label,
                    required=False,
                    widget=forms.Textarea(attrs={"rows": 5, "placeholder": section.guidance}),
                    help_text="One behavior per line.",
                )


class DraftEditor:
    """The sections form and one formset per list section, bound together for one draft."""

    def __init__(self, version, data=None):
        self.version = version
        self.kind = version.charter.kind
        stored = version.content
        initial = {
            "title": version.title,
            "revision": version.revision,
            "base": json.dumps({"title": version.title, "content": stored}),
        }
        for section in doc.sections_for(self.kind):
            if section.type == "text":
                initial[section.key] = stored.get(section.key, "")
            elif section.type == "bullets":
                initial[section.key] = "\n".join(stored.get(section.key, []))
        self.form = SectionsForm(data, kind=self.kind, initial=initial)
        self.formsets = {
            s.key: _formset(s.type)(data, prefix=s.key, initial=stored.get(s.key, []))
            for s in doc.sections_for(self.kind)
            if s.type in ROW_FORMS
        }

    def sections(self) -> list[dict]:
        """In document order: {section, field} or {section, formset}."""
        items = []
        for section in doc.sections_for(self.kind):
            if section.key in self.formsets:
                items.append({"section": section, "formset": self.formsets[section.key]})
            else:
                items.append({"section": section, "field": self.form[section.key]})
        return items

    def is_valid(self) -> bool:
        valid = self.form.is_valid()
        return all([valid] + [fs.is_valid() for fs in self.formsets.values()])

    def content(self) -> dict:
        data = self.form.cleaned_data
        result = {}
        for section in doc.sections_for(self.kind):
            if section.type == "text":
                result[section.key] = data.get(section.key, "")
            elif section.type == "bullets":
                result[section.key] = (data.get(section.key) or "").splitlines()
            else:
                rows = [f.cleaned_data for f in self.formsets[section.key].ordered_forms]
                result[section.key] = [{k: v for k, v in row.items() if k not in ("ORDER", "DELETE")} for row in rows]
        return result

    def base(self) -> dict | None:
        try:
            base = json.loads(self.form.cleaned_data.get("base") or "null")
        except ValueError:
            return None
        return base if isinstance(base, dict) else None

    def apply_errors(self, error) -> None:
        """Service errors keyed by section go next to that section."""
        if hasattr(error, "error_dict"):
            for key, messages in error.message_dict.items():
                if key in self.form.fields:
                    self.form.add_error(key, messages)
                elif key in self.formsets:
                    self.formsets[key]._non_form_errors = self.formsets[key].error_class(messages)
                else:
                    self.form.add_error(None, messages)
        else:
            self.form.add_error(None, error.messages)


def executives(organization):
    return Membership.objects.for_org(organization).active().with_role(Role.EXECUTIVE).select_related("user")


class MemberChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.user.display_name} — {obj.title}" if obj.title else obj.user.display_name


class MembersChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.user.display_name} — {obj.title}" if obj.title else obj.user.display_name


class SendForm(forms.Form):
    lead = MemberChoiceField(
        queryset=Membership.objects.none(),
        label="Lead executive",
        help_text="Signs first; the signature appears at the top of the charter.",
    )
    supporters = MembersChoiceField(
        queryset=Membership.objects.none(),
        required=False,
        label="Supporting executives",
        widget=forms.CheckboxSelectMultiple,
        help_text="Asked once the lead has signed; they sign in any order and appear below.",
    )
    message = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "Optional note for the signers"}),
    )

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["lead"].queryset = executives(organization)
        self.fields["supporters"].queryset = executives(organization)

    def clean(self):
        data = super().clean()
        lead, supporters = data.get("lead"), data.get("supporters") or []
        if lead and lead in supporters:
            self.add_error("supporters", "The lead executive signs as lead; untick them here.")
        return data


class SignForm(forms.Form):
    method = forms.ChoiceField(
        choices=Signer.Method.choices, widget=forms.RadioSelect, initial=Signer.Method.TYPED, label="Signature"
    )
    typed_name = forms.CharField(required=False, max_length=100, label="Type your full name")
    strokes = forms.CharField(required=False, widget=forms.HiddenInput, max_length=200_000)
    consent = forms.BooleanField(required=False)


class ReasonForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)


class CalloutForm(forms.Form):
    kind = forms.ChoiceField(choices=Callout.Kind.choices, widget=forms.RadioSelect, initial=Callout.Kind.KUDOS)
    behavior = forms.ChoiceField(
        required=False,
        label="Behavior from the matrix",
        help_text="Required for kudos. For a flag, choose the column it goes against if one fits.",
    )
    column = forms.ChoiceField(required=False, label="Column (flags)")
    subject = MemberChoiceField(queryset=Membership.objects.none(), required=False, label="Who (optional)")
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=1000)
    client_or_project = forms.CharField(required=False, max_length=200, label="Client or project (optional)")

    def __init__(self, *args, organization, matrix, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["behavior"].choices = [("", "—")] + [
            (c["name"], [(b["key"], b["text"]) for b in c["behaviors"]])
            for c in matrix.get("columns", [])
            if c["behaviors"]
        ]
        self.fields["column"].choices = [("", "—")] + [(c["key"], c["name"]) for c in matrix.get("columns", [])]
        self.fields["subject"].queryset = (
            Membership.objects.for_org(organization).active().select_related("user").order_by("user__full_name")
        )


class SettingsForm(forms.ModelForm):
    class Meta:
        model = CharterSettings
        fields = ["reminder_interval_days", "expiry_days"]
