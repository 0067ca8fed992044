from django.apps import AppConfig


class TenancyConfig(AppConfig):
    name = "cxprogram.tenancy"
    label = "tenancy"
    verbose_name = "Organizations"

    def ready(self):
        from django.db.models.signals import post_migrate

        from .rls import apply_row_level_security

        post_migrate.connect(apply_row_level_security, dispatch_uid="tenancy.rls")
