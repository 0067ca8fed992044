"""Metrics API under /api/v1/orgs/<org_slug>/: the figures (the same the dashboards show), revenue and
proposal records with CSV import, targets, adoption assessments. Every write goes through the services."""

from django.core.exceptions import ValidationError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from cxprogram.core.api import TenantViewSetMixin
from cxprogram.tenancy.serializers import raise_as_drf

from . import catalog, imports, serializers, services
from .models import AdoptionSurvey, MetricTarget, ProposalRecord, RevenueRecord
from .selectors import Metrics, Period, Slice


def _service(call, **kwargs):
    try:
        return call(**kwargs)
    except ValidationError as error:
        raise_as_drf(error)


class MetricValueViewSet(TenantViewSetMixin, viewsets.ViewSet):
    """GET the figures for a period and slice: one metric (?metric=nps) or all of them."""

    read_permission = "dashboards.view"

    @extend_schema(
        parameters=[serializers.MetricQuerySerializer], responses={200: OpenApiResponse(description="Figures")}
    )
    def list(self, request, org_slug):
        query = serializers.MetricQuerySerializer(
            data=request.query_params, context={"organization": self.organization}
        )
        query.is_valid(raise_exception=True)
        data = query.validated_data
        metrics = Metrics(self.organization)
        if data.get("start"):
            period = Period.months(data["start"], data.get("end") or metrics.today())
        else:
            period = Period.last_months(12, metrics.today())
        slc = Slice(
            unit_id=data["unit"].pk if data.get("unit") else None,
            project_manager_id=data["project_manager"].pk if data.get("project_manager") else None,
            client_id=data["client"].pk if data.get("client") else None,
            project_id=data["project"].pk if data.get("project") else None,
            template_id=data["template"].pk if data.get("template") else None,
            contact_kind=data.get("kind", ""),
            client_tag=data.get("tag", ""),
        )
        keys = [data["metric"]] if data.get("metric") else [m.key for m in catalog.METRICS]
        result = {
            "period": {"start": period.start, "end": period.last_day},
            "freshness": metrics.freshness,
            "metrics": [self._figure(metrics, key, period, slc) for key in keys],
        }
        by = data.get("by")
        if by and (data.get("metric") in (None, "nps", "response_rate")):
            result["breakdown"] = self._breakdown(metrics, data.get("metric") or "nps", by, period, slc)
        return Response(result)

    @staticmethod
    def _figure(metrics, key, period, slc) -> dict:
        metric = catalog.get(key)
        entry = {"metric": key, "label": metric.label, "unit": metric.unit}
        if key == "nps":
            figure = metrics.nps(period, slc)
            return {**entry, **figure.as_dict(), "value": figure.score}
        if key == "response_rate":
            figure = metrics.requests(period, slc)
            return {**entry, **figure.as_dict(), "value": figure.rate}
        if key in ("net_revenue_retention", "gross_revenue_churn", "new_clients", "client_lifetime_value"):
            return {
                **entry,
                "value": metrics.value(key, period, slc),
                "revenue": metrics.revenue(period, slc).as_dict(),
            }
        value = metrics.value(key, period, slc)
        return {**entry, "value": None if value is None else float(value)}

    @staticmethod
    def _breakdown(metrics, key, by, period, slc):
        if by in ("month", "quarter"):
            rows = metrics.nps_trend(period, slc, by) if key == "nps" else metrics.requests_trend(period, slc, by)
        else:
            rows = metrics.nps_by(period, by, slc) if key == "nps" else metrics.requests_by(period, by, slc)
        return [{"key": k, **figure.as_dict()} for k, figure in rows]


class _Records(
    TenantViewSetMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    read_permission, write_permission = "dashboards.view", "metrics.manage"
    parser_classes = [JSONParser, MultiPartParser, FormParser]
    importer = None

    def _import(self, request):
        body = serializers.ImportSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        report = _service(
            type(self).importer,
            organization=self.organization,
            actor=request.user,
            uploaded=body.validated_data["file"],
            request=request,
        )
        if not report.imported:
            return Response(
                {
                    "error": {
                        "code": "invalid_rows",
                        "message": "Nothing was imported: fix these rows.",
                        "fields": {},
                        "report": report.as_dict(),
                    }
                },
                status=400,
            )
        return Response(report.as_dict(), status=201)


class RevenueRecordViewSet(_Records):
    model, serializer_class, importer = RevenueRecord, serializers.RevenueRecordSerializer, imports.import_revenue

    def get_base_queryset(self):
        rows = RevenueRecord.objects.for_org(self.organization).select_related("client").order_by("-month", "pk")
        client = self.request.query_params.get("client", "")
        return rows.filter(client_id=client) if client.isdigit() else rows

    def perform_create(self, serializer):
        serializer.instance = _service(
            services.save_revenue,
            organization=self.organization,
            actor=self.request.user,
            request=self.request,
            source=RevenueRecord.Source.API,
            **serializer.validated_data,
        )

    def perform_update(self, serializer):
        """Only the amount changes: another client or month is another record."""
        row = serializer.instance
        data = {"client": row.client, "month": row.month, **serializer.validated_data}
        if data["client"] != row.client or data["month"].replace(day=1) != row.month:
            raise_as_drf(ValidationError({"month": "Change the amount only; enter another month as a new record."}))
        serializer.instance = _service(
            services.save_revenue,
            organization=self.organization,
            actor=self.request.user,
            request=self.request,
            source=RevenueRecord.Source.API,
            **data,
        )

    def perform_destroy(self, instance):
        services.delete_revenue(row=instance, actor=self.request.user, request=self.request)

    @extend_schema(request={"multipart/form-data": serializers.ImportSerializer})
    @action(detail=False, methods=["post"], url_path="import")
    def import_csv(self, request, org_slug):
        """CSV with columns client (name), month (YYYY-MM), amount: all rows or none."""
        return self._import(request)


class ProposalRecordViewSet(_Records):
    model, serializer_class, importer = ProposalRecord, serializers.ProposalRecordSerializer, imports.import_proposals

    def get_base_queryset(self):
        return ProposalRecord.objects.for_org(self.organization).order_by("-submitted_on", "pk")

    def perform_create(self, serializer):
        serializer.instance = _service(
            services.save_proposal,
            organization=self.organization,
            actor=self.request.user,
            request=self.request,
            source=RevenueRecord.Source.API,
            **serializer.validated_data,
        )

    def perform_update(self, serializer):
        instance = serializer.instance
        current = {name: getattr(instance, name) for name in services.PROPOSAL_FIELDS}
        serializer.instance = _service(
            services.save_proposal,
            organization=self.organization,
            actor=self.request.user,
            proposal=instance,
            request=self.request,
            **{**current, **serializer.validated_data},
        )

    def perform_destroy(self, instance):
        services.delete_proposal(proposal=instance, actor=self.request.user, request=self.request)

    @extend_schema(request={"multipart/form-data": serializers.ImportSerializer})
    @action(detail=False, methods=["post"], url_path="import")
    def import_csv(self, request, org_slug):
        """CSV with columns reference, title, submitted_on and optionally outcome, decided_on, client, prospect,
        unit, value: all rows or none; a known reference is updated."""
        return self._import(request)


class MetricTargetViewSet(_Records):
    model, serializer_class = MetricTarget, serializers.MetricTargetSerializer
    parser_classes = [JSONParser]

    def get_base_queryset(self):
        return MetricTarget.objects.for_org(self.organization).order_by("metric", "-starts_on", "pk")

    def perform_create(self, serializer):
        serializer.instance = _service(
            services.save_target,
            organization=self.organization,
            actor=self.request.user,
            request=self.request,
            **serializer.validated_data,
        )

    def perform_update(self, serializer):
        serializer.instance = _service(
            services.save_target,
            organization=self.organization,
            actor=self.request.user,
            instance=serializer.instance,
            request=self.request,
            **serializer.validated_data,
        )

    def perform_destroy(self, instance):
        services.delete_target(target=instance, actor=self.request.user, request=self.request)


class AdoptionSurveyViewSet(
    TenantViewSetMixin,
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Quarterly assessments: open one (every member is mailed), read the scores, answer one."""

    model, serializer_class = AdoptionSurvey, serializers.AdoptionSurveySerializer
    read_permission, write_permission = "dashboards.view", "metrics.manage"
    permissions_by_action = {"answer": "org.view"}

    def get_base_queryset(self):
        return AdoptionSurvey.objects.for_org(self.organization)

    def perform_create(self, serializer):
        serializer.instance = _service(
            services.open_adoption_survey,
            organization=self.organization,
            actor=self.request.user,
            request=self.request,
            **serializer.validated_data,
        )

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    @action(detail=False, methods=["get"], pagination_class=None)
    def results(self, request, org_slug):
        """Overall score (0-100) and score per dimension, by quarter."""
        return Response(Metrics(self.organization).adoption())

    @extend_schema(request=serializers.AdoptionAnswerSerializer)
    @action(detail=True, methods=["post"])
    def answer(self, request, org_slug, pk):
        survey = self.get_object()
        body = serializers.AdoptionAnswerSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        _service(
            services.submit_adoption,
            survey=survey,
            membership=request.membership,
            scores=body.validated_data["scores"],
            request=request,
        )
        return Response({"answered": True}, status=201)


def register(router, org_prefix: str) -> None:
    """Add this app's viewsets to the API router under /api/v1/orgs/<org_slug>/."""
    router.register(org_prefix + "metric-values", MetricValueViewSet, basename="metric-value")
    router.register(org_prefix + "revenue-records", RevenueRecordViewSet, basename="revenue-record")
    router.register(org_prefix + "proposals", ProposalRecordViewSet, basename="proposal")
    router.register(org_prefix + "metric-targets", MetricTargetViewSet, basename="metric-target")
    router.register(org_prefix + "adoption-surveys", AdoptionSurveyViewSet, basename="adoption-survey")
