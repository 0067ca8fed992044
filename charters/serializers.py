from rest_framework import serializers

from cxprogram.tenancy.models import Membership

from .models import Callout, Charter, CharterVersion, SignatureRequest, Signer


class CharterSerializer(serializers.ModelSerializer):
    class Meta:
        model = Charter
        fields = ["id", "title", "kind", "in_force_version", "created_at", "updated_at"]
        read_only_fields = ["id", "in_force_version", "created_at", "updated_at"]


class CharterVersionSerializer(serializers.ModelSerializer):
    content = serializers.JSONField()
    matrix = serializers.JSONField(read_only=True)
    revision = serializers.IntegerField(
        help_text="The revision you loaded. A save based on an older one is refused with 409 (conflict)."
    )

    class Meta:
        model = CharterVersion
        fields = [
            "id",
            "charter",
            "number",
            "status",
            "title",
            "content",
            "matrix",
            "revision",
            "matrix_revision",
            "content_hash",
            "frozen_at",
            "published_at",
            "pdf_sha256",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "id",
            "charter",
            "number",
            "status",
            "matrix",
            "matrix_revision",
            "content_hash",
            "frozen_at",
            "published_at",
            "pdf_sha256",
            "created_at",
            "updated_at",
        ]


class AmendmentSerializer(serializers.Serializer):
    charter = serializers.PrimaryKeyRelatedField(queryset=Charter.objects.none())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        organization = self.context.get("organization")
        if organization is not None:
            self.fields["charter"].queryset = Charter.objects.for_org(organization)


class MatrixReplaceSerializer(serializers.Serializer):
    matrix = serializers.JSONField(help_text='{"columns": [{"key", "name", "behaviors": [{"key", "text"}]}]}')
    matrix_revision = serializers.IntegerField()


class MatrixOperationSerializer(serializers.Serializer):
    op = serializers.ChoiceField(
        choices=[
            "add_column",
            "rename_column",
            "remove_column",
            "move_column",
            "add_behavior",
            "edit_behavior",
            "remove_behavior",
            "move_behavior",
        ]
    )
    column = serializers.CharField(required=False, max_length=40)
    behavior = serializers.CharField(required=False, max_length=40)
    name = serializers.CharField(required=False, allow_blank=True, max_length=200)
    text = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    direction = serializers.ChoiceField(choices=["up", "down", "left", "right"], required=False)
    previous = serializers.CharField(required=False, allow_blank=True, max_length=5000)


def members_field(**kwargs):
    return serializers.PrimaryKeyRelatedField(queryset=Membership.objects.none(), **kwargs)


class SendSerializer(serializers.Serializer):
    lead = members_field(help_text="Membership id of the lead executive.")
    supporters = members_field(many=True, required=False)
    message = serializers.CharField(required=False, allow_blank=True, max_length=2000)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        organization = self.context.get("organization")
        if organization is not None:
            members = Membership.objects.for_org(organization).select_related("user")
            self.fields["lead"].queryset = members
            self.fields["supporters"].child_relation.queryset = members


class CharterReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class SignSerializer(serializers.Serializer):
    consent = serializers.BooleanField()
    signature_method = serializers.ChoiceField(choices=Signer.Method.choices, help_text="Typed or drawn.")
    typed_name = serializers.CharField(required=False, allow_blank=True, max_length=100)
    strokes = serializers.JSONField(required=False, help_text="[[[x, y], ...], ...] in a 600×200 box.")


class SignerSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="membership.user.display_name", read_only=True)
    version = serializers.IntegerField(source="request.version_id", read_only=True)
    signature_method = serializers.ChoiceField(source="method", choices=Signer.Method.choices, read_only=True)

    class Meta:
        model = Signer
        fields = [
            "id",
            "request",
            "version",
            "membership",
            "name",
            "role",
            "status",
            "asked_at",
            "signed_at",
            "signature_method",
            "version_hash",
            "declined_at",
            "decline_reason",
        ]
        read_only_fields = fields


class SignatureRequestSerializer(serializers.ModelSerializer):
    signers = SignerSerializer(many=True, read_only=True)

    class Meta:
        model = SignatureRequest
        fields = [
            "id",
            "version",
            "status",
            "sent_at",
            "expires_at",
            "reminder_interval_days",
            "message",
            "closed_at",
            "close_reason",
            "signers",
        ]
        read_only_fields = fields


class VerificationSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["intact", "altered", "not_frozen"])
    intact = serializers.BooleanField(allow_null=True)
    stored_hash = serializers.CharField()
    computed_hash = serializers.CharField()


class CalloutSerializer(serializers.ModelSerializer):
    behavior = serializers.CharField(source="behavior_key", required=False, allow_blank=True, max_length=40)
    column = serializers.CharField(source="column_key", required=False, allow_blank=True, max_length=40)
    subject = members_field(required=False, allow_null=True)

    class Meta:
        model = Callout
        fields = [
            "id",
            "charter",
            "version",
            "kind",
            "behavior",
            "column",
            "column_name",
            "behavior_text",
            "subject",
            "unit",
            "author",
            "note",
            "client_or_project",
            "created_at",
        ]
        read_only_fields = [
            "id",
            "charter",
            "version",
            "column_name",
            "behavior_text",
            "unit",
            "author",
            "created_at",
        ]
        extra_kwargs = {"note": {"max_length": 1000}}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        organization = self.context.get("organization")
        if organization is not None:
            self.fields["subject"].queryset = Membership.objects.for_org(organization)


class AcknowledgmentResultSerializer(serializers.Serializer):
    version = serializers.IntegerField()
    acknowledged_at = serializers.DateTimeField()
