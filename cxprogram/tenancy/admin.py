from django.contrib import admin

from cxprogram.core.admin_site import ReadOnlyAdmin, register_the_rest

from .models import Membership, Organization


@admin.register(Organization)
class OrganizationAdmin(ReadOnlyAdmin):
    list_display = ["name", "slug", "time_zone", "require_two_factor"]
    search_fields = ["name", "slug"]


@admin.register(Membership)
class MembershipAdmin(ReadOnlyAdmin):
    list_display = ["user", "organization", "roles", "is_active", "joined_at"]
    list_filter = ["is_active", "organization"]
    search_fields = ["user__email"]
    list_select_related = ["user", "organization"]


register_the_rest("tenancy")
