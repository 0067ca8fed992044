from rest_framework import serializers

from cxprogram.tenancy.models import Membership, Unit

from .models import (
    ActionItem,
    Ballot,
    BoardMember,
    Decision,
    Domain,
    HealthUpdate,
    Horizon,
    Initiative,
    Meeting,
    RankingRound,
    Score,
    Source,
    TimelineEvent,
)


class OrgScopedMixin:
    """Related-field querysets limited to the request's organization: `scoped = {field: Model}`."""

    scoped: dict = {}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        organization = self.context.get("organization")
        for name, model in self.scoped.items():
            field = self.fields[name]
            target = field.child_relation if isinstance(field, serializers.ManyRelatedField) else field
            target.queryset = model.objects.for_org(organization) if organization else model.objects.none()


class InitiativeSerializer(OrgScopedMixin, serializers.ModelSerializer):
    code = serializers.CharField(read_only=True)
    score = serializers.SerializerMethodField()
    domain = serializers.PrimaryKeyRelatedField(queryset=Domain.objects.none(), allow_null=True, required=False)
    owner = serializers.PrimaryKeyRelatedField(queryset=Membership.objects.none(), allow_null=True, required=False)
    unit = serializers.PrimaryKeyRelatedField(queryset=Unit.objects.none(), allow_null=True, required=False)
    blocked_by = serializers.SerializerMethodField()
    scoped = {"domain": Domain, "owner": Membership, "unit": Unit}

    class Meta:
        model = Initiative
        fields = [
            "id",
            "code",
            "title",
            "description",
            "domain",
            "source",
            "source_reference",
            "target_metrics",
            "submitted_by",
            "owner",
            "unit",
            "horizon",
            "target_start",
            "target_end",
            "status",
            "status_note",
            "merged_into",
            "priority",
            "health",
            "person_days",
            "budget",
            "score",
            "blocked_by",
            "created_at",
            "status_changed_at",
        ]
        read_only_fields = [
            "id",
            "code",
            "submitted_by",
            "status",
            "status_note",
            "merged_into",
            "priority",
            "health",
            "person_days",
            "budget",
            "created_at",
            "status_changed_at",
        ]

    def get_score(self, obj) -> dict | None:
        score = next(iter(obj.scores.all()), None)
        return {"value": str(score.value), "method": score.method, "formula": score.formula} if score else None

    def get_blocked_by(self, obj) -> list[int]:
        return [d.blocker_id for d in obj.blocked_by_links.all()]


class IdeaSerializer(OrgScopedMixin, serializers.Serializer):
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True)
    domain = serializers.PrimaryKeyRelatedField(queryset=Domain.objects.none(), allow_null=True, required=False)
    source = serializers.ChoiceField(choices=Source.choices, default=Source.STAFF_IDEA)
    source_reference = serializers.CharField(max_length=255, required=False, allow_blank=True)
    scoped = {"domain": Domain}


class QualifySerializer(OrgScopedMixin, serializers.Serializer):
    horizon = serializers.ChoiceField(choices=Horizon.choices, required=False)
    domain = serializers.PrimaryKeyRelatedField(queryset=Domain.objects.none(), allow_null=True, required=False)
    scoped = {"domain": Domain}


class TransitionReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(allow_blank=True, default="")


class MergeSerializer(OrgScopedMixin, serializers.Serializer):
    into = serializers.PrimaryKeyRelatedField(queryset=Initiative.objects.none())
    scoped = {"into": Initiative}


class RankSerializer(serializers.Serializer):
    priority = serializers.IntegerField()


class InitiativeScheduleSerializer(serializers.Serializer):
    target_start = serializers.DateField()
    target_end = serializers.DateField()


class EmptyBodySerializer(serializers.Serializer):
    pass


class ScoreSerializer(OrgScopedMixin, serializers.ModelSerializer):
    initiative = serializers.PrimaryKeyRelatedField(queryset=Initiative.objects.none())
    criteria = serializers.DictField(child=serializers.IntegerField(), required=False, write_only=True)
    # Bounds are the service's: it refuses negative or absurd values with a message per field.
    cost = serializers.DecimalField(max_digits=30, decimal_places=2)
    effort_days = serializers.DecimalField(max_digits=30, decimal_places=1)
    impact = serializers.DecimalField(max_digits=6, decimal_places=2, default=1)
    customer_benefit = serializers.IntegerField()
    business_value = serializers.IntegerField()
    confidence = serializers.IntegerField(default=80)
    reach = serializers.IntegerField(default=0)
    scoped = {"initiative": Initiative}

    class Meta:
        model = Score
        fields = [
            "id",
            "initiative",
            "customer_benefit",
            "business_value",
            "cost",
            "effort_days",
            "confidence",
            "reach",
            "impact",
            "criteria",
            "method",
            "value",
            "formula",
            "scored_at",
        ]
        read_only_fields = ["id", "method", "value", "formula", "scored_at"]


class RankingRoundSerializer(OrgScopedMixin, serializers.ModelSerializer):
    initiatives = serializers.PrimaryKeyRelatedField(queryset=Initiative.objects.none(), many=True, write_only=True)
    stakeholders = serializers.PrimaryKeyRelatedField(queryset=Membership.objects.none(), many=True, write_only=True)
    results = serializers.SerializerMethodField()
    scoped = {"initiatives": Initiative, "stakeholders": Membership}

    class Meta:
        model = RankingRound
        fields = [
            "id",
            "title",
            "state",
            "opened_at",
            "closes_at",
            "closed_at",
            "agreement",
            "initiatives",
            "stakeholders",
            "results",
        ]
        read_only_fields = ["id", "state", "opened_at", "closed_at", "agreement"]

    def get_results(self, obj) -> list[dict]:
        return [
            {"initiative": i.initiative_id, "points": i.points, "combined_rank": i.combined_rank}
            for i in obj.items.all()
        ]


class BallotSerializer(OrgScopedMixin, serializers.ModelSerializer):
    round = serializers.PrimaryKeyRelatedField(queryset=RankingRound.objects.none())
    order = serializers.ListField(child=serializers.IntegerField(), allow_empty=False)
    scoped = {"round": RankingRound}

    class Meta:
        model = Ballot
        fields = ["id", "round", "membership", "order", "submitted_at"]
        read_only_fields = ["id", "membership", "submitted_at"]


class BoardMemberSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="membership.user.display_name", read_only=True)

    class Meta:
        model = BoardMember
        fields = ["id", "membership", "name", "added_at"]


class BoardMembersSetSerializer(OrgScopedMixin, serializers.Serializer):
    members = serializers.PrimaryKeyRelatedField(queryset=Membership.objects.none(), many=True)
    scoped = {"members": Membership}


class MeetingSerializer(serializers.ModelSerializer):
    agenda = serializers.SerializerMethodField()
    present = serializers.SerializerMethodField()

    class Meta:
        model = Meeting
        fields = ["id", "scheduled_for", "state", "agenda_mailed_at", "held_at", "notes", "agenda", "present"]

    def get_agenda(self, obj) -> list[dict]:
        return [{"initiative": a.initiative_id, "kind": a.kind, "position": a.position} for a in obj.agenda.all()]

    def get_present(self, obj) -> list[int]:
        return [a.membership_id for a in obj.attendance.all()]


class MeetingAttendanceSerializer(OrgScopedMixin, serializers.Serializer):
    present = serializers.PrimaryKeyRelatedField(queryset=Membership.objects.none(), many=True)
    scoped = {"present": Membership}


class CloseMeetingSerializer(serializers.Serializer):
    notes = serializers.CharField(allow_blank=True, default="")


class DecisionSerializer(OrgScopedMixin, serializers.ModelSerializer):
    meeting = serializers.PrimaryKeyRelatedField(queryset=Meeting.objects.none())
    initiative = serializers.PrimaryKeyRelatedField(queryset=Initiative.objects.none())
    owner = serializers.PrimaryKeyRelatedField(queryset=Membership.objects.none(), allow_null=True, required=False)
    person_days = serializers.DecimalField(max_digits=30, decimal_places=1, required=False, allow_null=True)
    budget = serializers.DecimalField(max_digits=30, decimal_places=2, required=False, allow_null=True)
    scoped = {"meeting": Meeting, "initiative": Initiative, "owner": Membership}

    class Meta:
        model = Decision
        fields = [
            "id",
            "meeting",
            "initiative",
            "outcome",
            "deadline",
            "owner",
            "person_days",
            "budget",
            "note",
            "override_reason",
            "decided_by",
            "decided_at",
        ]
        read_only_fields = ["id", "decided_by", "decided_at"]
        extra_kwargs = {"note": {"required": False}, "override_reason": {"required": False}}


class ActionItemSerializer(OrgScopedMixin, serializers.ModelSerializer):
    initiative = serializers.PrimaryKeyRelatedField(queryset=Initiative.objects.none())
    owner = serializers.PrimaryKeyRelatedField(queryset=Membership.objects.none())
    scoped = {"initiative": Initiative, "owner": Membership}

    class Meta:
        model = ActionItem
        fields = ["id", "initiative", "title", "owner", "due_on", "status", "done_at", "created_at"]
        read_only_fields = ["id", "done_at", "created_at"]


class HealthUpdateSerializer(OrgScopedMixin, serializers.ModelSerializer):
    initiative = serializers.PrimaryKeyRelatedField(queryset=Initiative.objects.none())
    scoped = {"initiative": Initiative}

    class Meta:
        model = HealthUpdate
        fields = ["id", "initiative", "week_of", "health", "text", "author", "created_at"]
        read_only_fields = ["id", "week_of", "author", "created_at"]


class TimelineEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = TimelineEvent
        fields = ["id", "kind", "text", "actor", "created_at"]
