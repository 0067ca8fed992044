from rest_framework import serializers

from cxprogram.tenancy.models import Membership, Unit
from feedback.models import Client, Contact, Project, SurveyTemplate

from . import catalog
from .models import AdoptionSurvey, MetricTarget, ProposalRecord, RevenueRecord


class TenantRelatedMixin:
    """Limit every related field to the organization's own rows."""

    related = {"client": Client, "unit": Unit, "owner": Membership}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        organization = self.context.get("organization")
        for name, model in self.related.items():
            if name in self.fields and organization is not None:
                self.fields[name].queryset = model.objects.for_org(organization)


class RevenueRecordSerializer(TenantRelatedMixin, serializers.ModelSerializer):
    client = serializers.PrimaryKeyRelatedField(queryset=Client.objects.none())
    client_name = serializers.CharField(source="client.name", read_only=True)
    month = serializers.DateField(help_text="Any day of the month; stored as its first day.")

    class Meta:
        model = RevenueRecord
        fields = ["id", "client", "client_name", "month", "amount", "source", "updated_at"]
        read_only_fields = ["id", "client_name", "source", "updated_at"]
        validators = []  # the service replaces the month's figure instead of refusing a second one


class ProposalRecordSerializer(TenantRelatedMixin, serializers.ModelSerializer):
    client = serializers.PrimaryKeyRelatedField(queryset=Client.objects.none(), allow_null=True, required=False)
    unit = serializers.PrimaryKeyRelatedField(queryset=Unit.objects.none(), allow_null=True, required=False)

    class Meta:
        model = ProposalRecord
        fields = [
            "id",
            "reference",
            "title",
            "client",
            "prospect",
            "unit",
            "value",
            "submitted_on",
            "outcome",
            "decided_on",
            "source",
            "updated_at",
        ]
        read_only_fields = ["id", "source", "updated_at"]
        validators = []  # the service checks the reference within the organization


class MetricTargetSerializer(TenantRelatedMixin, serializers.ModelSerializer):
    unit = serializers.PrimaryKeyRelatedField(queryset=Unit.objects.none(), allow_null=True, required=False)
    owner = serializers.PrimaryKeyRelatedField(queryset=Membership.objects.none(), allow_null=True, required=False)
    metric = serializers.ChoiceField(choices=catalog.CHOICES)

    class Meta:
        model = MetricTarget
        fields = [
            "id",
            "metric",
            "unit",
            "target",
            "warning",
            "starts_on",
            "ends_on",
            "owner",
            "note",
            "status",
            "last_value",
            "evaluated_at",
        ]
        read_only_fields = ["id", "status", "last_value", "evaluated_at"]


class AdoptionSurveySerializer(serializers.ModelSerializer):
    label = serializers.CharField(read_only=True)

    class Meta:
        model = AdoptionSurvey
        fields = ["id", "quarter", "label", "closes_on", "created_at"]
        read_only_fields = ["id", "label", "created_at"]


class AdoptionAnswerSerializer(serializers.Serializer):
    scores = serializers.DictField(child=serializers.IntegerField(min_value=1, max_value=5))


class ImportSerializer(serializers.Serializer):
    file = serializers.FileField()


GROUPS = ["month", "quarter", "unit", "top_unit", "project_manager", "template", "contact_kind", "client", "project"]


class MetricQuerySerializer(serializers.Serializer):
    """The figures' query: a period of whole months (default: the last 12) and a slice."""

    metric = serializers.ChoiceField(choices=catalog.CHOICES, required=False)
    start = serializers.DateField(required=False, input_formats=["%Y-%m", "%Y-%m-%d"])
    end = serializers.DateField(required=False, input_formats=["%Y-%m", "%Y-%m-%d"])
    unit = serializers.PrimaryKeyRelatedField(queryset=Unit.objects.none(), required=False)
    project_manager = serializers.PrimaryKeyRelatedField(queryset=Membership.objects.none(), required=False)
    client = serializers.PrimaryKeyRelatedField(queryset=Client.objects.none(), required=False)
    project = serializers.PrimaryKeyRelatedField(queryset=Project.objects.none(), required=False)
    template = serializers.PrimaryKeyRelatedField(queryset=SurveyTemplate.objects.none(), required=False)
    kind = serializers.ChoiceField(choices=Contact.Kind.choices, required=False)
    tag = serializers.CharField(required=False, max_length=60)
    by = serializers.ChoiceField(choices=GROUPS, required=False, help_text="Break an NPS or response rate down.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        organization = self.context.get("organization")
        if organization is None:  # schema generation: no tenant, nothing to choose from
            return
        for name, model in {
            "unit": Unit,
            "project_manager": Membership,
            "client": Client,
            "project": Project,
            "template": SurveyTemplate,
        }.items():
            self.fields[name].queryset = model.objects.for_org(organization)

    def validate(self, data):
        if data.get("start") and data.get("end") and data["end"] < data["start"]:
            raise serializers.ValidationError({"end": "The period ends before it starts."})
        return data
