from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "cxprogram.audit"
    label = "audit"
    verbose_name = "Audit log"
