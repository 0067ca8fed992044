"""One shared way to write tasks.

- `enqueue(task, ...)` sends a task only after the current transaction commits, so a worker never
  looks for a row that is not there yet (and nothing is sent for a change that was rolled back).
- `cx_task(name)` declares a task that retries with exponential backoff on transient errors
  (database, broker, SMTP) and is acknowledged late, so a task whose worker dies runs again.
  Such a task must be idempotent: it loads its rows, claims the work with a conditional update,
  and calls one service.
"""

import smtplib
import socket

from celery import shared_task
from django.db import OperationalError, transaction

TRANSIENT_ERRORS = (OperationalError, smtplib.SMTPException, ConnectionError, socket.timeout, TimeoutError)


def cx_task(name: str, **options):
    defaults = {
        "name": name,
        "autoretry_for": TRANSIENT_ERRORS,
        "retry_backoff": True,
        "retry_backoff_max": 600,
        "retry_jitter": True,
        "max_retries": 8,
        "acks_late": True,
    }
    defaults.update(options)
    return shared_task(**defaults)


def enqueue(task, *args, **kwargs) -> None:
    transaction.on_commit(lambda: task.delay(*args, **kwargs))
