from allauth.account.forms import SignupForm as AllauthSignupForm
from django import forms

from .models import ApiToken


class SignupForm(AllauthSignupForm):
    full_name = forms.CharField(label="Your name", max_length=150)

    field_order = ["full_name", "email", "password1", "password2"]

    def save(self, request):
        user = super().save(request)
        user.full_name = self.cleaned_data["full_name"].strip()
        user.save(update_fields=["full_name"])
        return user


class ApiTokenForm(forms.ModelForm):
    class Meta:
        model = ApiToken
        fields = ["name"]
        labels = {"name": "What is this token for?"}
        help_texts = {"name": "For example: “Nightly revenue import”."}
