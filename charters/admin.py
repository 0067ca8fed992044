from django.contrib import admin

from .models import Charter, CharterEvent, CharterVersion, Signer


@admin.register(Charter)
class CharterAdmin(admin.ModelAdmin):
    list_display = ["title", "kind", "organization", "updated_at"]
    list_filter = ["kind"]
    search_fields = ["title"]


@admin.register(CharterVersion)
class CharterVersionAdmin(admin.ModelAdmin):
    list_display = ["charter", "number", "status", "content_hash", "frozen_at"]
    list_filter = ["status"]
    # Frozen content is read-only everywhere; the admin is for looking, not editing.
    readonly_fields = [f.name for f in CharterVersion._meta.fields]


@admin.register(Signer)
class SignerAdmin(admin.ModelAdmin):
    list_display = ["membership", "role", "status", "signed_at"]
    readonly_fields = [f.name for f in Signer._meta.fields]


@admin.register(CharterEvent)
class CharterEventAdmin(admin.ModelAdmin):
    list_display = ["created_at", "charter", "verb", "actor_label"]
    readonly_fields = [f.name for f in CharterEvent._meta.fields]
