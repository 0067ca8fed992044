from django.apps import AppConfig


class MetricsConfig(AppConfig):
    name = "metrics"
    verbose_name = "Metrics"

    def ready(self):
        from cxprogram.tenancy.attention import register

        from .views import adoption_items, off_target_items

        register(off_target_items)
        register(adoption_items)
