from django.contrib import admin

from cxprogram.core.admin_site import ReadOnlyAdmin, register_the_rest

from .models import Charter, CharterEvent, CharterVersion, Signer


@admin.register(Charter)
class CharterAdmin(ReadOnlyAdmin):
    list_display = ["title", "kind", "organization", "updated_at"]
    list_filter = ["kind"]
    search_fields = ["title"]


@admin.register(CharterVersion)
class CharterVersionAdmin(ReadOnlyAdmin):
    list_display = ["charter", "number", "status", "content_hash", "frozen_at"]
    list_filter = ["status"]


@admin.register(Signer)
class SignerAdmin(ReadOnlyAdmin):
    list_display = ["membership", "role", "status", "signed_at"]


@admin.register(CharterEvent)
class CharterEventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "charter", "verb", "actor_label"]


register_the_rest("charters")
