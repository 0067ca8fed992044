from django.core.exceptions import ValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from cxprogram.core.api import TenantViewSetMixin

from . import services
from .models import Invitation, Membership, Organization, Unit
from .selectors import memberships_of
from .serializers import (
    InvitationSerializer,
    MembershipSerializer,
    OrganizationSerializer,
    UnitSerializer,
    raise_as_drf,
)


class OrganizationListViewSet(mixins.ListModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet):
    """The organizations you belong to; creating one makes you its admin."""

    serializer_class = OrganizationSerializer
    queryset = Organization.objects.none()

    def get_queryset(self):
        ids = [m.organization_id for m in memberships_of(self.request.user)]
        return Organization.objects.filter(pk__in=ids)

    def perform_create(self, serializer):
        data = serializer.validated_data
        try:
            serializer.instance = services.create_organization(
                user=self.request.user,
                name=data["name"],
                slug=data.get("slug", ""),
                time_zone=data.get("time_zone", "UTC"),
                request=self.request,
            )
        except ValidationError as error:
            raise_as_drf(error)


class OrganizationDetailViewSet(TenantViewSetMixin, viewsets.GenericViewSet):
    serializer_class = OrganizationSerializer
    queryset = Organization.objects.none()
    write_permission = "org.manage"

    def retrieve(self, request, org_slug):
        return Response(self.get_serializer(request.organization).data)

    def partial_update(self, request, org_slug):
        serializer = self.get_serializer(request.organization, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        try:
            services.update_organization(
                organization=request.organization, actor=request.user, request=request, **serializer.validated_data
            )
        except ValidationError as error:
            raise_as_drf(error)
        return Response(self.get_serializer(request.organization).data)


class UnitViewSet(TenantViewSetMixin, viewsets.ModelViewSet):
    model = Unit
    serializer_class = UnitSerializer
    read_permission, write_permission = "members.view", "org.manage"

    def get_base_queryset(self):
        return Unit.objects.for_org(self.organization).select_related("parent")

    def perform_create(self, serializer):
        self._save(serializer, None)

    def perform_update(self, serializer):
        self._save(serializer, serializer.instance)

    def _save(self, serializer, unit):
        data = serializer.validated_data
        try:
            serializer.instance = services.save_unit(
                organization=self.organization,
                actor=self.request.user,
                unit=unit,
                request=self.request,
                name=data.get("name", unit.name if unit else ""),
                parent=data.get("parent", unit.parent if unit else None),
            )
        except ValidationError as error:
            raise_as_drf(error)

    def perform_destroy(self, instance):
        try:
            services.delete_unit(unit=instance, actor=self.request.user, request=self.request)
        except ValidationError as error:
            raise_as_drf(error)


class MemberViewSet(
    TenantViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    model = Membership
    serializer_class = MembershipSerializer
    read_permission, write_permission = "members.view", "members.manage"

    def get_base_queryset(self):
        return Membership.objects.for_org(self.organization).select_related("user", "unit")

    def perform_update(self, serializer):
        member = serializer.instance
        data = serializer.validated_data
        try:
            services.change_membership(
                membership=member,
                actor=self.request.user,
                roles=data.get("roles", member.roles),
                unit=data.get("unit", member.unit),
                title=data.get("title", member.title),
                request=self.request,
            )
        except ValidationError as error:
            raise_as_drf(error)

    @extend_schema(request=None, responses=MembershipSerializer)
    @action(detail=True, methods=["post"])
    def deactivate(self, request, org_slug, pk):
        return self._set_active(services.deactivate_member)

    @extend_schema(request=None, responses=MembershipSerializer)
    @action(detail=True, methods=["post"])
    def reactivate(self, request, org_slug, pk):
        return self._set_active(services.reactivate_member)

    def _set_active(self, service):
        member = self.get_object()
        try:
            service(membership=member, actor=self.request.user, request=self.request)
        except ValidationError as error:
            raise_as_drf(error)
        return Response(self.get_serializer(member).data)


class InvitationViewSet(
    TenantViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    model = Invitation
    serializer_class = InvitationSerializer
    read_permission = write_permission = "members.manage"

    def perform_create(self, serializer):
        data = serializer.validated_data
        try:
            serializer.instance = services.invite_member(
                organization=self.organization,
                actor=self.request.user,
                email=data["email"],
                roles=data["roles"],
                unit=data.get("unit"),
                request=self.request,
            )
        except ValidationError as error:
            raise_as_drf(error)

    @extend_schema(request=None, responses=InvitationSerializer)
    @action(detail=True, methods=["post"])
    def resend(self, request, org_slug, pk):
        return self._act(services.resend_invitation)

    @extend_schema(request=None, responses=InvitationSerializer)
    @action(detail=True, methods=["post"])
    def revoke(self, request, org_slug, pk):
        return self._act(services.revoke_invitation)

    def _act(self, service):
        invitation = self.get_object()
        try:
            service(invitation=invitation, actor=self.request.user, request=self.request)
        except ValidationError as error:
            raise_as_drf(error)
        return Response(self.get_serializer(invitation).data, status=status.HTTP_200_OK)
