from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from .models import Invitation, Membership, Organization, Unit
from .permissions import Role


class OrganizationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Organization
        fields = ["id", "name", "slug", "time_zone", "fiscal_year_start_month", "require_two_factor", "created_at"]
        read_only_fields = ["id", "created_at"]


class UnitSerializer(serializers.ModelSerializer):
    parent = serializers.PrimaryKeyRelatedField(queryset=Unit.objects.none(), allow_null=True, required=False)

    class Meta:
        model = Unit
        fields = ["id", "name", "parent"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        organization = self.context.get("organization")
        if organization is not None:
            self.fields["parent"].queryset = Unit.objects.for_org(organization)


class MembershipSerializer(serializers.ModelSerializer):
    email = serializers.EmailField(source="user.email", read_only=True)
    name = serializers.CharField(source="user.display_name", read_only=True)
    roles = serializers.ListField(child=serializers.ChoiceField(choices=Role.choices), allow_empty=False)
    unit = serializers.PrimaryKeyRelatedField(queryset=Unit.objects.none(), allow_null=True, required=False)

    class Meta:
        model = Membership
        fields = ["id", "email", "name", "roles", "unit", "title", "is_active", "joined_at", "deactivated_at"]
        read_only_fields = ["id", "email", "name", "is_active", "joined_at", "deactivated_at"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        organization = self.context.get("organization")
        if organization is not None:
            self.fields["unit"].queryset = Unit.objects.for_org(organization)


class InvitationSerializer(serializers.ModelSerializer):
    roles = serializers.ListField(child=serializers.ChoiceField(choices=Role.choices), allow_empty=False)
    unit = serializers.PrimaryKeyRelatedField(queryset=Unit.objects.none(), allow_null=True, required=False)
    status = serializers.CharField(read_only=True)

    class Meta:
        model = Invitation
        fields = ["id", "email", "roles", "unit", "status", "created_at", "expires_at", "last_sent_at", "sent_count"]
        read_only_fields = ["id", "status", "created_at", "expires_at", "last_sent_at", "sent_count"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        organization = self.context.get("organization")
        if organization is not None:
            self.fields["unit"].queryset = Unit.objects.for_org(organization)


def raise_as_drf(error: DjangoValidationError):
    raise serializers.ValidationError(
        error.message_dict if hasattr(error, "error_dict") else {"non_field_errors": error.messages}
    )
