"""The API's shared pieces: pagination, the one error format, and the tenant base classes.

Every error has the shape `{"error": {"code": ..., "message": ..., "fields": {field: [messages]}}}`.
Tenant endpoints live under `/api/v1/orgs/<org_slug>/`: the organization is resolved from the path
among the caller's active memberships (anything else is a 404), made current, and every queryset is
built from it.
"""

from django.shortcuts import get_object_or_404
from rest_framework import permissions, viewsets
from rest_framework.response import Response


class HasOrgPermission(permissions.BasePermission):
    """Checks the view's `permission_for(action)` against the caller's membership in the path's org."""

    message = "Your role does not allow this."

    def has_permission(self, request, view):
        from cxprogram.tenancy.decorators import has_totp

        if request.membership.needs_two_factor and not has_totp(request.user):
            self.message = "Your organization requires two-factor authentication: set it up in the app first."
            return False
        perm = view.permission_for(request)
        return perm is None or request.membership.can(perm)


class TenantViewSetMixin:
    # Resolves the organization from the URL and scopes everything to it. Subclasses set `model` (a
    # TenantModel) or override `get_base_queryset`, `read_permission` / `write_permission`, and
    # optionally `permissions_by_action`. (A comment, not a docstring: the API docs would show it.)

    permission_classes = [permissions.IsAuthenticated, HasOrgPermission]
    permissions_by_action: dict[str, str] = {}
    read_permission = "org.view"
    write_permission = "org.manage"
    model = None

    def initial(self, request, *args, **kwargs):
        from cxprogram.tenancy.selectors import resolve_membership

        # Authenticate first (a missing token is a 401, not a 404), then find the tenant.
        self.perform_authentication(request)
        if request.user and request.user.is_authenticated:
            membership = resolve_membership(request.user, kwargs.get("org_slug", ""))
            request.organization = membership.organization
            request.membership = membership
            request._request.organization = membership.organization
            request._request.membership = membership
        super().initial(request, *args, **kwargs)

    @property
    def organization(self):
        return self.request.organization

    def permission_for(self, request) -> str | None:
        action = getattr(self, "action", None)
        if action in self.permissions_by_action:
            return self.permissions_by_action[action]
        return self.read_permission if request.method in permissions.SAFE_METHODS else self.write_permission

    def get_base_queryset(self):
        return self.model.objects.for_org(self.organization)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no tenant
            return self.model.objects.none()
        return self.get_base_queryset()

    def get_serializer_context(self):
        context = super().get_serializer_context()
        context["organization"] = getattr(self.request, "organization", None)
        return context


class TenantViewSet(TenantViewSetMixin, viewsets.ModelViewSet):
    pass


class TenantReadOnlyViewSet(TenantViewSetMixin, viewsets.ReadOnlyModelViewSet):
    pass


def tenant_object(queryset, **lookup):
    return get_object_or_404(queryset, **lookup)


def error_response(message: str, status: int = 400, code: str = "invalid", fields=None) -> Response:
    return Response({"error": {"code": code, "message": message, "fields": fields or {}}}, status=status)
