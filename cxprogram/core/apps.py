from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class CoreConfig(AppConfig):
    name = "cxprogram.core"
    label = "core"
    verbose_name = "Core"


class SupportAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin with the operators' site (cxprogram/core/admin_site.py)."""

    default = False  # named in INSTALLED_APPS; CoreConfig is this module's app
    default_site = "cxprogram.core.admin_site.SupportAdminSite"
