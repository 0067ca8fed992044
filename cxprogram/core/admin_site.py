"""The Django admin (`/django-admin/`): the operators' console, for looking, not changing.

Only superusers (the people who run the service) enter. Tenant data changes through the product's own
pages and API, which check roles, keep each model's invariants and write the audit log; the admin would do
none of that, so every model in it is read-only (`ReadOnlyAdmin`). It reads across tenants: a superuser's
admin requests pass row-level security for their transaction, which would otherwise show the app's
database role no tenant's rows at all. Secrets (the nonces that survey and invitation links are derived
from, token hashes, webhook secrets, password hashes) are never shown."""

from functools import update_wrapper

from django.apps import apps
from django.contrib import admin

from cxprogram.tenancy.context import system_scope

SECRET_FIELDS = ("password", "nonce", "mailed_nonce", "token_hash", "webhook_secret")


class SupportAdminSite(admin.AdminSite):
    site_header = site_title = "CX Program operations"
    index_title = "Every organization's records, read-only"

    def has_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def admin_view(self, view, cacheable=False):
        checked = super().admin_view(view, cacheable)

        def across_tenants(request, *args, **kwargs):
            if not self.has_permission(request):
                return checked(request, *args, **kwargs)  # to the login page
            with system_scope():
                response = checked(request, *args, **kwargs)
                if hasattr(response, "render"):
                    response.render()  # the page's queries run now, inside the scope
            return response

        return update_wrapper(across_tenants, checked)


class ReadOnlyAdmin(admin.ModelAdmin):
    """A model shown, never added, changed or deleted; its secrets left out."""

    show_full_result_count = False  # counting a million responses on every page is not worth the wait

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_exclude(self, request, obj=None):
        return [f.name for f in self.model._meta.fields if f.name in SECRET_FIELDS]


def register_the_rest(app_label: str) -> None:
    """Every model of an app that its admin module has not registered: read-only, by name and, for a
    tenant's rows, by organization."""
    for model in apps.get_app_config(app_label).get_models():
        if admin.site.is_registered(model):
            continue
        by_organization = any(f.name == "organization" for f in model._meta.fields)
        columns = {"list_display": ("__str__", "organization"), "list_filter": ("organization",)}
        admin.site.register(model, ReadOnlyAdmin, **(columns if by_organization else {}))
