from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "cxprogram.core"
    label = "core"
    verbose_name = "Core"
