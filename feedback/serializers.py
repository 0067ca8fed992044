from rest_framework import serializers

from cxprogram.tenancy.models import Membership, Unit

from .models import (
    Batch,
    Client,
    Contact,
    FollowUpCase,
    ImportJob,
    Project,
    Response,
    SurveyRequest,
    SurveyTemplate,
)


class TenantRelatedMixin:
    """Related-object fields only accept rows of the request's organization."""

    related = {}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        organization = self.context.get("organization")
        if organization is None:
            return
        for name, model in self.related.items():
            if name in self.fields and not self.fields[name].read_only:
                field = self.fields[name]
                target = field.child_relation if hasattr(field, "child_relation") else field
                target.queryset = model.objects.for_org(organization)


class ClientSerializer(TenantRelatedMixin, serializers.ModelSerializer):
    related = {"unit": Unit, "account_owner": Membership}
    tags = serializers.ListField(child=serializers.CharField(max_length=60), required=False)

    class Meta:
        model = Client
        fields = ["id", "name", "industry", "unit", "account_owner", "status", "tags", "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]
        validators = []


class ContactSerializer(TenantRelatedMixin, serializers.ModelSerializer):
    related = {"client": Client}

    class Meta:
        model = Contact
        fields = [
            "id",
            "client",
            "name",
            "email",
            "title",
            "kind",
            "language",
            "opted_out_at",
            "opted_out_reason",
            "bounced_at",
            "bounce_reason",
            "soft_bounce_count",
            "created_at",
        ]
        read_only_fields = [
            "id",
            "opted_out_at",
            "opted_out_reason",
            "bounced_at",
            "bounce_reason",
            "soft_bounce_count",
            "created_at",
        ]
        validators = []


class ProjectSerializer(TenantRelatedMixin, serializers.ModelSerializer):
    related = {"client": Client, "project_manager": Membership, "unit": Unit}

    class Meta:
        model = Project
        fields = [
            "id",
            "code",
            "name",
            "client",
            "project_manager",
            "unit",
            "phase",
            "start_date",
            "end_date",
            "status",
        ]
        read_only_fields = ["id"]
        validators = []


class ImportJobSerializer(serializers.ModelSerializer):
    file = serializers.FileField(write_only=True)

    class Meta:
        model = ImportJob
        fields = [
            "id",
            "kind",
            "state",
            "filename",
            "size",
            "header",
            "mapping",
            "row_count",
            "error_count",
            "report",
            "created_count",
            "updated_count",
            "created_at",
            "finished_at",
            "file",
        ]
        read_only_fields = [f for f in fields if f not in ("kind", "file")]


class MappingSerializer(serializers.Serializer):
    mapping = serializers.DictField(child=serializers.CharField(allow_blank=True))


class SurveyTemplateSerializer(serializers.ModelSerializer):
    version = serializers.IntegerField(source="current_version.number", read_only=True)
    questions = serializers.JSONField(source="current_version.questions", read_only=True)
    languages = serializers.JSONField(source="current_version.languages", read_only=True)

    class Meta:
        model = SurveyTemplate
        fields = ["id", "name", "description", "phase", "is_default", "version", "languages", "questions"]


class BatchSerializer(TenantRelatedMixin, serializers.ModelSerializer):
    related = {"projects": Project, "contacts": Contact, "template": SurveyTemplate}
    projects = serializers.PrimaryKeyRelatedField(many=True, queryset=Project.objects.none())
    contacts = serializers.PrimaryKeyRelatedField(many=True, queryset=Contact.objects.none(), write_only=True)
    template = serializers.PrimaryKeyRelatedField(
        queryset=SurveyTemplate.objects.none(), write_only=True, required=False
    )
    template_version = serializers.IntegerField(source="template_version.number", read_only=True)
    sender = serializers.PrimaryKeyRelatedField(read_only=True)
    response_count = serializers.IntegerField(read_only=True)  # annotated by selectors.batches_list

    class Meta:
        model = Batch
        fields = [
            "id",
            "name",
            "projects",
            "contacts",
            "template",
            "template_version",
            "personal_message",
            "sender",
            "reply_to",
            "send_at",
            "state",
            "request_count",
            "skipped_count",
            "sent_count",
            "failed_count",
            "response_count",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = [
            "id",
            "send_at",
            "state",
            "request_count",
            "skipped_count",
            "sent_count",
            "failed_count",
            "created_at",
            "started_at",
            "finished_at",
        ]
        extra_kwargs = {"reply_to": {"required": False}, "name": {"required": False}}


class ScheduleSerializer(serializers.Serializer):
    send_at = serializers.DateTimeField()


class SurveyRequestSerializer(serializers.ModelSerializer):
    class Meta:
        model = SurveyRequest
        fields = [
            "id",
            "batch",
            "contact",
            "project",
            "state",
            "sent_at",
            "message_id",
            "reminders_sent",
            "next_reminder_at",
            "expires_at",
            "responded_at",
            "last_error",
        ]


class ResponseSerializer(serializers.ModelSerializer):
    class Meta:
        model = Response
        fields = [
            "id",
            "request",
            "batch",
            "contact",
            "client",
            "project",
            "project_manager",
            "unit",
            "contact_kind",
            "language",
            "nps_score",
            "answers",
            "follow_up_requested",
            "submitted_at",
            "updated_at",
            "thank_you_approved_by",
            "thank_you_sent_at",
        ]
        read_only_fields = ["thank_you_approved_by", "thank_you_sent_at"]


class CaseSerializer(TenantRelatedMixin, serializers.ModelSerializer):
    related = {"owner": Membership}

    class Meta:
        model = FollowUpCase
        fields = [
            "id",
            "response",
            "client",
            "project",
            "unit",
            "owner",
            "trigger",
            "state",
            "due_at",
            "notes",
            "outcome",
            "root_cause",
            "escalated_at",
            "created_at",
            "closed_at",
        ]
        read_only_fields = [
            "id",
            "response",
            "client",
            "project",
            "unit",
            "trigger",
            "due_at",
            "escalated_at",
            "created_at",
            "closed_at",
        ]
