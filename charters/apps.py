from django.apps import AppConfig


class ChartersConfig(AppConfig):
    name = "charters"
    verbose_name = "Charters"

    def ready(self):
        from cxprogram.tenancy.attention import register

        from .attention import charter_items

        register(charter_items)
