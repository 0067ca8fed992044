"""The initiatives API: every write goes through the same services as the pages, so the same rules and
messages apply; a refused change is a 400 in the platform's error format and nothing changes."""

from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from cxprogram.core.api import TenantViewSetMixin
from cxprogram.tenancy.serializers import raise_as_drf

from . import serializers as s
from . import services
from .models import (
    ActionItem,
    Ballot,
    BoardMember,
    Decision,
    Dependency,
    HealthUpdate,
    Initiative,
    Meeting,
    RankingRound,
    Score,
    Status,
)


def _run(call):
    try:
        return call()
    except ValidationError as error:
        raise_as_drf(error)


class InitiativeViewSet(
    TenantViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """The backlog. POST submits an idea (any member); PATCH edits details (owner or CoE); each status
    change is an action: POST …/{id}/qualify/, decline, merge, rank, schedule, start, complete, cancel.
    Approve, defer and reject are board decisions: POST /decisions/."""

    model = Initiative
    serializer_class = s.InitiativeSerializer
    read_permission = "initiatives.view"
    write_permission = "initiatives.view"  # the services check who may do what
    permissions_by_action = {"create": "initiatives.submit"}
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_base_queryset(self):
        queryset = Initiative.objects.for_org(self.organization).prefetch_related(
            "scores", Prefetch("blocked_by_links", queryset=Dependency.objects.only("initiative_id", "blocker_id"))
        )
        wanted = self.request.query_params.get("status")
        return queryset.filter(status=wanted) if wanted in Status.values else queryset

    def get_serializer_class(self):
        if self.action == "create":
            return s.IdeaSerializer
        return TRANSITION_SERIALIZERS.get(self.action, s.InitiativeSerializer)

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        initiative = _run(
            lambda: services.submit_idea(
                organization=self.organization, actor=request.membership, request=request, **serializer.validated_data
            )
        )
        return Response(self._out(initiative), status=status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        initiative = self.get_object()
        serializer = s.InitiativeSerializer(
            initiative, data=request.data, partial=True, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        _run(
            lambda: services.update_initiative(
                initiative=initiative, actor=request.membership, request=request, **serializer.validated_data
            )
        )
        return Response(self._out(initiative))

    def update(self, request, *args, **kwargs):
        return self.partial_update(request, *args, **kwargs)

    def _out(self, initiative):
        initiative = self.get_base_queryset().get(pk=initiative.pk)
        return s.InitiativeSerializer(initiative, context=self.get_serializer_context()).data

    def _transition(self, request, name):
        initiative = self.get_object()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        service = getattr(services, name)
        _run(
            lambda: service(
                initiative=initiative, actor=request.membership, request=request, **serializer.validated_data
            )
        )
        return Response(self._out(initiative))

    @extend_schema(request=s.QualifySerializer, responses=s.InitiativeSerializer)
    @action(detail=True, methods=["post"])
    def qualify(self, request, *args, **kwargs):
        return self._transition(request, "qualify")

    @extend_schema(request=s.TransitionReasonSerializer, responses=s.InitiativeSerializer)
    @action(detail=True, methods=["post"])
    def decline(self, request, *args, **kwargs):
        return self._transition(request, "decline")

    @extend_schema(request=s.MergeSerializer, responses=s.InitiativeSerializer)
    @action(detail=True, methods=["post"])
    def merge(self, request, *args, **kwargs):
        return self._transition(request, "merge")

    @extend_schema(request=s.RankSerializer, responses=s.InitiativeSerializer)
    @action(detail=True, methods=["post"])
    def rank(self, request, *args, **kwargs):
        return self._transition(request, "rank")

    @extend_schema(request=s.InitiativeScheduleSerializer, responses=s.InitiativeSerializer)
    @action(detail=True, methods=["post"])
    def schedule(self, request, *args, **kwargs):
        return self._transition(request, "schedule")

    @extend_schema(request=s.EmptyBodySerializer, responses=s.InitiativeSerializer)
    @action(detail=True, methods=["post"])
    def start(self, request, *args, **kwargs):
        return self._transition(request, "start")

    @extend_schema(request=s.EmptyBodySerializer, responses=s.InitiativeSerializer)
    @action(detail=True, methods=["post"])
    def complete(self, request, *args, **kwargs):
        return self._transition(request, "complete")

    @extend_schema(request=s.TransitionReasonSerializer, responses=s.InitiativeSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, *args, **kwargs):
        return self._transition(request, "cancel")

    @extend_schema(responses=s.TimelineEventSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None)
    def timeline(self, request, *args, **kwargs):
        events = self.get_object().timeline.all()[:200]
        return Response(s.TimelineEventSerializer(events, many=True).data)


TRANSITION_SERIALIZERS = {
    "qualify": s.QualifySerializer,
    "decline": s.TransitionReasonSerializer,
    "cancel": s.TransitionReasonSerializer,
    "merge": s.MergeSerializer,
    "rank": s.RankSerializer,
    "schedule": s.InitiativeScheduleSerializer,
    "start": s.EmptyBodySerializer,
    "complete": s.EmptyBodySerializer,
}


class ScoreViewSet(
    TenantViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Scores; POST scores (or re-scores) an initiative with the organization's method."""

    model = Score
    serializer_class = s.ScoreSerializer
    read_permission, write_permission = "initiatives.view", "initiatives.manage"

    def get_base_queryset(self):
        return Score.objects.for_org(self.organization).order_by("pk")

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        initiative = data.pop("initiative")
        serializer.instance = _run(
            lambda: services.save_score(
                initiative=initiative, actor=self.request.membership, request=self.request, **data
            )
        )


class RankingRoundViewSet(
    TenantViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Ranking rounds; POST opens one (and mails the stakeholders); POST …/{id}/close/ combines the ballots."""

    model = RankingRound
    serializer_class = s.RankingRoundSerializer
    read_permission, write_permission = "initiatives.view", "initiatives.manage"

    def get_base_queryset(self):
        return RankingRound.objects.for_org(self.organization).prefetch_related("items")

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = _run(
            lambda: services.open_round(
                organization=self.organization,
                actor=self.request.membership,
                title=data["title"],
                initiatives=data["initiatives"],
                stakeholders=data["stakeholders"],
                closes_at=data["closes_at"],
                request=self.request,
            )
        )

    @extend_schema(request=s.EmptyBodySerializer, responses=s.RankingRoundSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request, *args, **kwargs):
        round_ = self.get_object()
        _run(lambda: services.close_round(round_=round_, actor=request.membership, request=request))
        return Response(s.RankingRoundSerializer(self.get_base_queryset().get(pk=round_.pk)).data)


class BallotViewSet(TenantViewSetMixin, mixins.ListModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet):
    """Your ballots (the CoE sees all); POST casts or replaces yours: `order` lists every initiative id of
    the round, most important first."""

    model = Ballot
    serializer_class = s.BallotSerializer
    read_permission = write_permission = "initiatives.view"

    def get_base_queryset(self):
        queryset = Ballot.objects.for_org(self.organization)
        if not self.request.membership.can("initiatives.manage"):
            queryset = queryset.filter(membership=self.request.membership)
        return queryset.order_by("pk")

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = _run(
            lambda: services.submit_ballot(
                round_=data["round"], actor=self.request.membership, order=data["order"], request=self.request
            )
        )


class BoardMemberViewSet(TenantViewSetMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """The change board's members; POST …/set/ replaces the list."""

    model = BoardMember
    serializer_class = s.BoardMemberSerializer
    read_permission, write_permission = "initiatives.view", "initiatives.manage"

    def get_base_queryset(self):
        return BoardMember.objects.for_org(self.organization).select_related("membership__user").order_by("pk")

    @extend_schema(request=s.BoardMembersSetSerializer, responses=s.BoardMemberSerializer(many=True))
    @action(detail=False, methods=["post"], url_path="set", pagination_class=None)
    def set_members(self, request, *args, **kwargs):
        serializer = s.BoardMembersSetSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        _run(
            lambda: services.set_board_members(
                organization=self.organization,
                actor=request.membership,
                memberships=serializer.validated_data["members"],
                request=request,
            )
        )
        return Response(s.BoardMemberSerializer(self.get_base_queryset(), many=True).data)


class MeetingViewSet(TenantViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Change board meetings (planned by the schedule); actions record attendance, rebuild the agenda, close."""

    model = Meeting
    serializer_class = s.MeetingSerializer
    read_permission, write_permission = "initiatives.view", "board.decide"

    def get_base_queryset(self):
        return Meeting.objects.for_org(self.organization).prefetch_related("agenda", "attendance")

    @extend_schema(request=s.MeetingAttendanceSerializer, responses=s.MeetingSerializer)
    @action(detail=True, methods=["post"])
    def attendance(self, request, *args, **kwargs):
        meeting = self.get_object()
        serializer = s.MeetingAttendanceSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        present = serializer.validated_data["present"]
        _run(
            lambda: services.record_attendance(
                meeting=meeting, actor=request.membership, present=present, request=request
            )
        )
        return Response(s.MeetingSerializer(self.get_base_queryset().get(pk=meeting.pk)).data)

    @extend_schema(request=s.EmptyBodySerializer, responses=s.MeetingSerializer)
    @action(detail=True, methods=["post"])
    def agenda(self, request, *args, **kwargs):
        meeting = self.get_object()
        if meeting.is_held:
            raise_as_drf(ValidationError("This meeting is closed: its agenda no longer changes."))
        services.build_agenda(meeting)
        return Response(s.MeetingSerializer(self.get_base_queryset().get(pk=meeting.pk)).data)

    @extend_schema(request=s.CloseMeetingSerializer, responses=s.MeetingSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request, *args, **kwargs):
        meeting = self.get_object()
        serializer = s.CloseMeetingSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        notes = serializer.validated_data["notes"]
        _run(lambda: services.close_meeting(meeting=meeting, actor=request.membership, notes=notes, request=request))
        return Response(s.MeetingSerializer(self.get_base_queryset().get(pk=meeting.pk)).data)


class DecisionViewSet(
    TenantViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Board decisions. POST approves (deadline, owner, person_days, budget; `override_reason` when the
    strategy limits would be exceeded), defers (note) or rejects (note) an initiative at a meeting."""

    model = Decision
    serializer_class = s.DecisionSerializer
    read_permission, write_permission = "initiatives.view", "board.decide"

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        serializer.instance = _run(lambda: services.decide(actor=self.request.membership, request=self.request, **data))


class ActionItemViewSet(
    TenantViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Action items; PATCH changes the status (its owner, the initiative's owner or the CoE)."""

    model = ActionItem
    serializer_class = s.ActionItemSerializer
    read_permission = write_permission = "initiatives.view"
    http_method_names = ["get", "post", "patch", "head", "options"]

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        data.pop("status", None)
        serializer.instance = _run(
            lambda: services.add_action_item(actor=self.request.membership, request=self.request, **data)
        )

    def perform_update(self, serializer):
        item = serializer.instance
        unknown = set(serializer.validated_data) - {"status"}
        if unknown:
            raise_as_drf(ValidationError(dict.fromkeys(unknown, "Only the status changes here.")))
        new_status = serializer.validated_data.get("status", item.status)
        _run(
            lambda: services.set_action_item_status(
                item=item, actor=self.request.membership, status=new_status, request=self.request
            )
        )


class HealthUpdateViewSet(TenantViewSetMixin, mixins.ListModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet):
    """Weekly updates on delivery; POST posts (or replaces) this week's for an initiative."""

    model = HealthUpdate
    serializer_class = s.HealthUpdateSerializer
    read_permission = write_permission = "initiatives.view"

    def get_base_queryset(self):
        return HealthUpdate.objects.for_org(self.organization).order_by("-week_of", "pk")

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = _run(
            lambda: services.post_update(
                initiative=data["initiative"],
                actor=self.request.membership,
                health=data["health"],
                text=data["text"],
                request=self.request,
            )
        )


def register(router, org_prefix: str) -> None:
    """Add this app's viewsets to the API router under /api/v1/orgs/<org_slug>/."""
    router.register(org_prefix + "initiatives", InitiativeViewSet, basename="initiative")
    router.register(org_prefix + "scores", ScoreViewSet, basename="initiative-score")
    router.register(org_prefix + "ranking-rounds", RankingRoundViewSet, basename="ranking-round")
    router.register(org_prefix + "ballots", BallotViewSet, basename="ballot")
    router.register(org_prefix + "board-members", BoardMemberViewSet, basename="board-member")
    router.register(org_prefix + "meetings", MeetingViewSet, basename="board-meeting")
    router.register(org_prefix + "decisions", DecisionViewSet, basename="board-decision")
    router.register(org_prefix + "action-items", ActionItemViewSet, basename="action-item")
    router.register(org_prefix + "updates", HealthUpdateViewSet, basename="initiative-update")
