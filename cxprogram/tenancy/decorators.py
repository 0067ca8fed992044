from functools import wraps

from allauth.mfa.models import Authenticator
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.utils import timezone

from .selectors import resolve_membership


def has_totp(user) -> bool:
    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


def tenant_view(permission: str | None = "org.view"):
    """For views under /o/<org_slug>/: log in first, resolve the membership (404 for outsiders),
    send admins and executives to set up two-factor when the organization requires it, then check
    `permission` (403 for members without it). The view receives `request` without `org_slug`;
    `request.organization` and `request.membership` are set."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, org_slug, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            membership = resolve_membership(request.user, org_slug)
            request.organization = membership.organization
            request.membership = membership
            timezone.activate(membership.organization.tz)  # pages show the organization's local time
            if membership.needs_two_factor and not has_totp(request.user):
                messages.warning(
                    request,
                    f"{membership.organization.name} requires two-factor authentication for your role. "
                    "Set it up to continue.",
                )
                return redirect("mfa_activate_totp")
            if permission and not membership.can(permission):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        wrapped.tenant_permission = permission
        return wrapped

    return decorator
