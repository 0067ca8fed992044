from django.contrib import admin

from cxprogram.core.admin_site import ReadOnlyAdmin, register_the_rest

from .models import User


@admin.register(User)
class UserAdmin(ReadOnlyAdmin):
    list_display = ["email", "full_name", "is_active", "is_superuser", "last_login"]
    list_filter = ["is_active", "is_superuser"]
    search_fields = ["email", "full_name"]


register_the_rest("accounts")
