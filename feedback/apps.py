from django.apps import AppConfig


class FeedbackConfig(AppConfig):
    name = "feedback"
    verbose_name = "Feedback"

    def ready(self):
        from cxprogram.tenancy.attention import register

        from .attention import feedback_items

        register(feedback_items)
