"""The Celery app. The beat schedule lives here, in code, so that it is reviewed like code.

Periodic tasks only pick up work that is due in the database: no task relies on a long countdown
(Redis would redeliver it after the visibility timeout).
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cxprogram.settings")

app = Celery("cxprogram")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

app.conf.beat_schedule = {
    "charters-sweep": {"task": "charters.sweep", "schedule": 600.0},
    "feedback-send-due-batches": {"task": "feedback.send_due_batches", "schedule": 60.0},
    "feedback-send-due-reminders": {"task": "feedback.send_due_reminders", "schedule": 300.0},
    "feedback-requeue-stuck-requests": {"task": "feedback.requeue_stuck_requests", "schedule": 300.0},
    "feedback-remind-overdue-cases": {"task": "feedback.remind_overdue_cases", "schedule": 3600.0},
    "initiatives-board": {"task": "initiatives.board_sweep", "schedule": 3600.0},
    "initiatives-ranking": {"task": "initiatives.ranking_sweep", "schedule": 900.0},
    "initiatives-follow-up": {"task": "initiatives.follow_up_sweep", "schedule": 3600.0},
    "metrics-refresh-rollups": {"task": "metrics.refresh_rollups", "schedule": 600.0},
    "metrics-evaluate-targets": {"task": "metrics.evaluate_targets", "schedule": 3600.0},
    "metrics-monthly-board-reports": {"task": "metrics.monthly_board_reports", "schedule": 3600.0},
}
