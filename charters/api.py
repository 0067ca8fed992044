"""The charters API under /api/v1/orgs/<org_slug>/: charters, versions (drafts are edited here,
with the same optimistic revision check as the editor), the matrix, signature requests, signers,
call-outs. Signing is never done with an API token: only a browser session that has just
re-entered its password can sign."""

from allauth.account.decorators import reauthentication_required
from allauth.core.exceptions import ReauthenticationRequired
from django.core.exceptions import ValidationError
from django.http import FileResponse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from cxprogram.accounts.models import ApiToken
from cxprogram.core.api import TenantViewSetMixin, error_response
from cxprogram.tenancy.serializers import raise_as_drf

from . import serializers as s
from . import services
from .models import Callout, Charter, CharterVersion, SignatureRequest, Signer


def _call(function, **kwargs):
    """Run a service; its ValidationError becomes a 400 with field errors, a conflict a 409."""
    try:
        return function(**kwargs)
    except services.DraftConflict as conflict:
        raise _Conflict(conflict)
    except ValidationError as error:
        raise_as_drf(error)


class _Conflict(Exception):
    def __init__(self, conflict):
        self.conflict = conflict


class ConflictMixin:
    def handle_exception(self, exc):
        if isinstance(exc, _Conflict):
            return error_response(
                exc.conflict.messages[0],
                status=status.HTTP_409_CONFLICT,
                code="conflict",
                fields={"revision": [f"The current revision is {exc.conflict.current_revision}."]},
            )
        return super().handle_exception(exc)


class CharterViewSet(
    TenantViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Charters. Creating one makes its first version, a draft from the template of its kind; the
    title and sections are edited on that draft (charter-versions). Only a charter never sent for
    signature can be deleted."""

    model = Charter
    serializer_class = s.CharterSerializer
    read_permission, write_permission = "charter.view", "charter.edit"
    permissions_by_action = {"acknowledge": "charter.view", "callouts": "charter.view"}

    def get_base_queryset(self):
        return Charter.objects.for_org(self.organization).order_by("-updated_at", "pk")

    def perform_create(self, serializer):
        version = _call(
            services.create_charter,
            organization=self.organization,
            actor=self.request.user,
            title=serializer.validated_data["title"],
            kind=serializer.validated_data["kind"],
            request=self.request,
        )
        serializer.instance = version.charter

    def perform_destroy(self, instance):
        _call(services.delete_charter, charter=instance, actor=self.request.user, request=self.request)

    @extend_schema(request=None, responses=s.AcknowledgmentResultSerializer)
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, org_slug, pk):
        """ "I have read this and will act on it", for the version in force (idempotent)."""
        ack = _call(services.acknowledge, charter=self.get_object(), membership=request.membership, request=request)
        return Response({"version": ack.version_id, "acknowledged_at": ack.acknowledged_at})

    @extend_schema(methods=["get"], responses=s.CalloutSerializer(many=True))
    @extend_schema(methods=["post"], request=s.CalloutSerializer, responses=s.CalloutSerializer)
    @action(detail=True, methods=["get", "post"])
    def callouts(self, request, org_slug, pk):
        """Recent call-outs on this charter, or record one (kudos for a matrix behavior, or a flag)."""
        charter = self.get_object()
        if request.method == "GET":
            rows = Callout.objects.for_org(self.organization).filter(charter=charter).order_by("-created_at", "-id")
            page = self.paginate_queryset(rows)
            return self.get_paginated_response(s.CalloutSerializer(page, many=True).data)
        if not request.membership.can("charter.callout"):
            self.permission_denied(request)
        serializer = s.CalloutSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        callout = _call(
            services.record_callout,
            charter=charter,
            author=request.membership,
            kind=data["kind"],
            note=data["note"],
            behavior_key=data.get("behavior_key", ""),
            column_key=data.get("column_key", ""),
            subject=data.get("subject"),
            client_or_project=data.get("client_or_project", ""),
            request=request,
        )
        return Response(s.CalloutSerializer(callout).data, status=status.HTTP_201_CREATED)


class CharterVersionViewSet(ConflictMixin, TenantViewSetMixin, viewsets.ModelViewSet):
    """Versions of charters. Create = start an amendment (a draft copied from the version in force);
    update = save a draft (send the `revision` you loaded); delete = discard a draft amendment.
    Filter with `?charter=<id>`."""

    model = CharterVersion
    serializer_class = s.CharterVersionSerializer
    read_permission, write_permission = "charter.view", "charter.edit"
    permissions_by_action = {"verify": "charter.view", "pdf": "charter.view"}

    def get_base_queryset(self):
        versions = CharterVersion.objects.for_org(self.organization).select_related("charter", "organization")
        charter = self.request.query_params.get("charter", "")
        if charter.isdigit():
            versions = versions.filter(charter_id=int(charter))
        return versions.order_by("charter_id", "-number")

    @extend_schema(request=s.AmendmentSerializer, responses={201: s.CharterVersionSerializer})
    def create(self, request, org_slug):
        serializer = s.AmendmentSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        version = _call(
            services.start_amendment,
            charter=serializer.validated_data["charter"],
            actor=request.user,
            request=request,
        )
        return Response(self.get_serializer(version).data, status=status.HTTP_201_CREATED)

    def perform_update(self, serializer):
        version, data = serializer.instance, serializer.validated_data
        if "revision" not in data:
            raise_as_drf(ValidationError({"revision": "Send the revision you loaded, so that no edit is lost."}))
        serializer.instance = _call(
            services.save_draft,
            version=version,
            actor=self.request.user,
            revision=data["revision"],
            title=data.get("title", version.title),
            content=data.get("content", version.content),
            request=self.request,
        )

    def perform_destroy(self, instance):
        _call(services.discard_draft, version=instance, actor=self.request.user, request=self.request)

    @extend_schema(
        methods=["put"],
        request=s.MatrixReplaceSerializer,
        responses=s.CharterVersionSerializer,
        operation_id="replace_matrix",
    )
    @extend_schema(
        methods=["post"],
        request=s.MatrixOperationSerializer,
        responses=s.CharterVersionSerializer,
        operation_id="edit_matrix",
    )
    @action(detail=True, methods=["put", "post"])
    def matrix(self, request, org_slug, pk):
        """PUT replaces the whole matrix (send `matrix_revision`); POST applies one in-place edit."""
        version = self.get_object()
        if request.method == "PUT":
            serializer = s.MatrixReplaceSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            version = _call(
                services.replace_matrix,
                version=version,
                actor=request.user,
                matrix=serializer.validated_data["matrix"],
                matrix_revision=serializer.validated_data["matrix_revision"],
                request=request,
            )
        else:
            serializer = s.MatrixOperationSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            args = dict(serializer.validated_data)
            operation = args.pop("op")
            version = _call(
                services.change_matrix,
                version=version,
                actor=request.user,
                operation=operation,
                args=args,
                request=request,
            )
        return Response(self.get_serializer(version).data)

    @extend_schema(request=s.SendSerializer, responses={201: s.SignatureRequestSerializer})
    @action(detail=True, methods=["post"])
    def send(self, request, org_slug, pk):
        """Freeze the draft and ask the lead executive to sign (supporters after the lead)."""
        version = self.get_object()
        serializer = s.SendSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        signature_request = _call(
            services.send_for_signature,
            version=version,
            actor=request.user,
            lead=data["lead"],
            supporters=data.get("supporters", []),
            message=data.get("message", ""),
            request=request,
        )
        return Response(s.SignatureRequestSerializer(signature_request).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses=s.VerificationSerializer)
    @action(detail=True, methods=["get"])
    def verify(self, request, org_slug, pk):
        """Recompute the SHA-256 from the stored content: "intact" or "altered" since signing."""
        version = self.get_object()
        return Response(services.record_verification(version=version, actor=request.user, request=request))

    @extend_schema(responses={(200, "application/pdf"): OpenApiResponse(description="The signed charter as PDF.")})
    @action(detail=True, methods=["get"])
    def pdf(self, request, org_slug, pk):
        version = _call(services.ensure_pdf, version=self.get_object())
        services.record_download(version=version, actor=request.user, request=request)
        response = FileResponse(
            version.pdf.open("rb"),
            as_attachment=True,
            filename=f"charter-{version.charter_id}-v{version.number}.pdf",
            content_type="application/pdf",
        )
        response["X-Content-SHA256"] = version.pdf_sha256
        return response


class SignatureRequestViewSet(TenantViewSetMixin, viewsets.ReadOnlyModelViewSet):
    model = SignatureRequest
    serializer_class = s.SignatureRequestSerializer
    read_permission, write_permission = "charter.view", "charter.edit"

    def get_base_queryset(self):
        return (
            SignatureRequest.objects.for_org(self.organization)
            .prefetch_related("signers__membership__user")
            .order_by("-sent_at", "-pk")
        )

    @extend_schema(request=s.CharterReasonSerializer, responses=s.CharterVersionSerializer)
    @action(detail=True, methods=["post"])
    def void(self, request, org_slug, pk):
        """Stop a pending request. Returns the new draft (a copy of the voided version)."""
        signature_request = self.get_object()  # 404 before any validation
        serializer = s.CharterReasonSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        draft = _call(
            services.void,
            signature_request=signature_request,
            actor=request.user,
            reason=serializer.validated_data["reason"],
            request=request,
        )
        return Response(s.CharterVersionSerializer(draft).data)


def _reauthenticated(request) -> bool:
    @reauthentication_required
    def check(request):
        return True

    try:
        return check(request)
    except ReauthenticationRequired:
        return False


class SignerViewSet(TenantViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """Who is asked to sign what. `sign` works only from a browser session that re-entered its
    password in the last few minutes, never with an API token."""

    model = Signer
    serializer_class = s.SignerSerializer
    read_permission = write_permission = "charter.view"

    def get_base_queryset(self):
        return (
            Signer.objects.for_org(self.organization)
            .select_related("membership__user", "request__version__charter")
            .order_by("-request__sent_at", "position")
        )

    @extend_schema(request=s.SignSerializer, responses=s.SignerSerializer)
    @action(detail=True, methods=["post"])
    def sign(self, request, org_slug, pk):
        signer = self.get_object()
        if isinstance(request.auth, ApiToken):
            return error_response(
                "A signature cannot be made with an API token. Sign in the browser.",
                status=status.HTTP_403_FORBIDDEN,
                code="session_required",
            )
        if signer.membership_id != request.membership.pk:
            self.permission_denied(request, message="This signature was requested from someone else.")
        if not _reauthenticated(request._request):
            return error_response(
                "Confirm your password first (reauthenticate), then sign.",
                status=status.HTTP_403_FORBIDDEN,
                code="reauthentication_required",
            )
        serializer = s.SignSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        signer = _call(
            services.sign,
            signer=signer,
            user=request.user,
            consent=data["consent"],
            method=data["signature_method"],
            typed_name=data.get("typed_name", ""),
            strokes=data.get("strokes"),
            request=request._request,
        )
        return Response(s.SignerSerializer(signer).data)

    @extend_schema(request=s.CharterReasonSerializer, responses=s.CharterVersionSerializer)
    @action(detail=True, methods=["post"])
    def decline(self, request, org_slug, pk):
        """Decline with a reason: the request stops; returns the new draft."""
        signer = self.get_object()
        if signer.membership_id != request.membership.pk:
            self.permission_denied(request, message="This signature was requested from someone else.")
        serializer = s.CharterReasonSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        draft = _call(
            services.decline,
            signer=signer,
            user=request.user,
            reason=serializer.validated_data["reason"],
            request=request._request,
        )
        return Response(s.CharterVersionSerializer(draft).data)


def register(router, org_prefix: str) -> None:
    """Add this app's viewsets to the API router under /api/v1/orgs/<org_slug>/."""
    router.register(org_prefix + "charters", CharterViewSet, basename="charter")
    router.register(org_prefix + "charter-versions", CharterVersionViewSet, basename="charter-version")
    router.register(org_prefix + "charter-signature-requests", SignatureRequestViewSet, basename="charter-request")
    router.register(org_prefix + "charter-signers", SignerViewSet, basename="charter-signer")
