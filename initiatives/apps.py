from django.apps import AppConfig


class InitiativesConfig(AppConfig):
    name = "initiatives"
    verbose_name = "Initiatives"

    def ready(self):
        from cxprogram.tenancy.attention import register

        from .attention import initiative_items

        register(initiative_items)
