"""Feedback API under /api/v1/orgs/<org_slug>/: every write goes through the services."""

from django.core.exceptions import ValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response as ApiResponse

from cxprogram.core.api import TenantReadOnlyViewSet, TenantViewSetMixin
from cxprogram.tenancy.serializers import raise_as_drf

from . import imports, selectors, serializers, services
from .models import Batch, Client, Contact, FollowUpCase, ImportJob, Project, Response, SurveyRequest, SurveyTemplate


class ServiceSaveMixin:
    """create/update through `service(organization=, actor=, request=, <model name>=instance, **data)`."""

    service = None

    def perform_create(self, serializer):
        self._save(serializer, None)

    def perform_update(self, serializer):
        self._save(serializer, serializer.instance)

    def _save(self, serializer, instance):
        name = self.model._meta.model_name
        try:
            serializer.instance = type(self).service(
                organization=self.organization,
                actor=self.request.user,
                request=self.request,
                **{name: instance},
                **serializer.validated_data,
            )
        except ValidationError as error:
            raise_as_drf(error)


class _Writable(
    TenantViewSetMixin,
    ServiceSaveMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    read_permission, write_permission = "feedback.view", "feedback.manage"


class ClientViewSet(_Writable):
    model, serializer_class, service = Client, serializers.ClientSerializer, services.save_client

    def get_base_queryset(self):
        return selectors.clients_list(self.organization, query=self.request.query_params.get("q", ""))


class ContactViewSet(_Writable):
    model, serializer_class, service = Contact, serializers.ContactSerializer, services.save_contact

    def get_base_queryset(self):
        return selectors.contacts_list(self.organization, query=self.request.query_params.get("q", ""))


class ProjectViewSet(_Writable):
    model, serializer_class, service = Project, serializers.ProjectSerializer, services.save_project

    def get_base_queryset(self):
        return selectors.projects_list(self.organization, query=self.request.query_params.get("q", ""))


class ImportJobViewSet(
    TenantViewSetMixin,
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Upload (multipart: kind, file), then POST validate with a column mapping, then POST run."""

    model, serializer_class = ImportJob, serializers.ImportJobSerializer
    read_permission = write_permission = "feedback.manage"
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    def get_base_queryset(self):
        return ImportJob.objects.for_org(self.organization).defer("content")

    def perform_create(self, serializer):
        try:
            serializer.instance = imports.upload(
                organization=self.organization,
                actor=self.request.user,
                kind=serializer.validated_data["kind"],
                uploaded=serializer.validated_data["file"],
                request=self.request,
            )
        except ValidationError as error:
            raise_as_drf(error)

    @action(detail=True, methods=["post"], serializer_class=serializers.MappingSerializer)
    def validate(self, request, org_slug, pk):
        job = ImportJob.objects.for_org(self.organization).get(pk=self.get_object().pk)
        body = serializers.MappingSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            job = imports.validate(job=job, mapping=body.validated_data["mapping"] or job.mapping, actor=request.user)
        except ValidationError as error:
            raise_as_drf(error)
        return ApiResponse(serializers.ImportJobSerializer(job).data)

    @action(detail=True, methods=["post"])
    def run(self, request, org_slug, pk):
        job = ImportJob.objects.for_org(self.organization).get(pk=self.get_object().pk)
        try:
            job = imports.start_import(job=job, actor=request.user, request=request)
        except ValidationError as error:
            raise_as_drf(error)
        job.refresh_from_db()
        return ApiResponse(serializers.ImportJobSerializer(job).data, status=202)


class SurveyTemplateViewSet(TenantReadOnlyViewSet):
    model, serializer_class = SurveyTemplate, serializers.SurveyTemplateSerializer
    read_permission = "feedback.view"

    def get_base_queryset(self):
        return SurveyTemplate.objects.for_org(self.organization).select_related("current_version")


class BatchViewSet(
    TenantViewSetMixin,
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    model, serializer_class = Batch, serializers.BatchSerializer
    read_permission, write_permission = "feedback.view", "feedback.send"

    def get_base_queryset(self):
        return selectors.batches_list(
            self.organization, state=self.request.query_params.get("state", "")
        ).prefetch_related("projects")

    def perform_create(self, serializer):
        data = serializer.validated_data
        template = data.get("template")
        try:
            batch = services.create_batch(
                organization=self.organization,
                actor=self.request.user,
                sender=self.request.membership,
                projects=data["projects"],
                contacts=data["contacts"],
                template_version=template.current_version if template else None,
                personal_message=data.get("personal_message", ""),
                reply_to=data.get("reply_to", ""),
                name=data.get("name", ""),
                request=self.request,
            )
        except ValidationError as error:
            raise_as_drf(error)
        serializer.instance = selectors.batches_list(self.organization).get(pk=batch.pk)  # as listed, with counts

    def _act(self, service, batch=None, **kwargs):
        batch = batch or self.get_object()
        try:
            service(batch=batch, actor=self.request.user, request=self.request, **kwargs)
        except ValidationError as error:
            raise_as_drf(error)
        batch.refresh_from_db()
        return ApiResponse(serializers.BatchSerializer(batch, context=self.get_serializer_context()).data)

    @action(detail=True, methods=["post"], serializer_class=serializers.ScheduleSerializer)
    def schedule(self, request, org_slug, pk):
        batch = self.get_object()  # an unknown batch is a 404 before any body error
        body = serializers.ScheduleSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return self._act(services.schedule_batch, batch=batch, send_at=body.validated_data["send_at"])

    @action(detail=True, methods=["post"], url_path="send")
    def send_now(self, request, org_slug, pk):
        return self._act(services.send_batch_now)

    @action(detail=True, methods=["post"])
    def cancel(self, request, org_slug, pk):
        return self._act(services.cancel_batch)

    @action(detail=True, methods=["get"])
    def progress(self, request, org_slug, pk):
        return ApiResponse(selectors.batch_progress(self.get_object()))


class SurveyRequestViewSet(TenantReadOnlyViewSet):
    model, serializer_class = SurveyRequest, serializers.SurveyRequestSerializer
    read_permission = "feedback.view"

    def get_base_queryset(self):
        requests = SurveyRequest.objects.for_org(self.organization).order_by("-pk")
        batch = self.request.query_params.get("batch", "")
        return requests.filter(batch_id=batch) if batch.isdigit() else requests


class ResponseViewSet(TenantReadOnlyViewSet):
    """Filters: date_from, date_to (YYYY-MM-DD), client, project, score_min, score_max."""

    model, serializer_class = Response, serializers.ResponseSerializer
    read_permission = "feedback.view"
    permissions_by_action = {"thank_you": "feedback.send"}  # as the page's approve button

    def get_base_queryset(self):
        p = self.request.query_params

        def number(name):
            value = p.get(name, "")
            return int(value) if value.isdigit() else None

        try:
            return selectors.responses_list(
                self.organization,
                date_from=p.get("date_from") or None,
                date_to=p.get("date_to") or None,
                client=number("client"),
                project=number("project"),
                score_min=number("score_min"),
                score_max=number("score_max"),
            )
        except ValidationError as error:
            raise_as_drf(error)

    @extend_schema(request=None, responses=serializers.ResponseSerializer)
    @action(detail=True, methods=["post"], url_path="thank-you")
    def thank_you(self, request, org_slug, pk):
        """Approve the thank-you mail to a promoter (a score of 9 or 10), sent once in the approver's name.
        The project's manager approves (the CX CoE and admins may too; anyone else is a 403). Refused (400)
        when the contact opted out or bounced, and when one was already approved."""
        response = self.get_object()
        try:
            services.approve_thank_you(response=response, actor_membership=request.membership, request=request)
        except ValidationError as error:
            raise_as_drf(error)
        response.refresh_from_db()
        return ApiResponse(self.get_serializer(response).data)


class CaseViewSet(
    TenantViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    model, serializer_class = FollowUpCase, serializers.CaseSerializer
    read_permission, write_permission = "cases.view", "cases.manage"

    def get_base_queryset(self):
        return selectors.cases_list(self.organization, state=self.request.query_params.get("state", ""))

    def perform_update(self, serializer):
        try:
            serializer.instance = services.update_case(
                case=serializer.instance, actor=self.request.user, request=self.request, **serializer.validated_data
            )
        except ValidationError as error:
            raise_as_drf(error)


def register(router, org_prefix: str) -> None:
    """Add this app's viewsets to the API router under /api/v1/orgs/<org_slug>/."""
    prefix = org_prefix + "feedback/"
    router.register(prefix + "clients", ClientViewSet, basename="feedback-client")
    router.register(prefix + "contacts", ContactViewSet, basename="feedback-contact")
    router.register(prefix + "projects", ProjectViewSet, basename="feedback-project")
    router.register(prefix + "imports", ImportJobViewSet, basename="feedback-import")
    router.register(prefix + "templates", SurveyTemplateViewSet, basename="feedback-template")
    router.register(prefix + "batches", BatchViewSet, basename="feedback-batch")
    router.register(prefix + "requests", SurveyRequestViewSet, basename="feedback-request")
    router.register(prefix + "responses", ResponseViewSet, basename="feedback-response")
    router.register(prefix + "cases", CaseViewSet, basename="feedback-case")
