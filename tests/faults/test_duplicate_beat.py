"""Two workers and two beat processes by mistake: every periodic message arrives twice and two workers
take them at the same time. A due survey reminder still goes out once per contact."""

import time
from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from cxprogram.celery import app as celery_app
from feedback import services
from feedback.models import Batch, SurveyRequest
from tests.feedback.worker_helpers import big_batch, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

SIZE = 60


def test_duplicated_periodic_messages_send_each_reminder_once(org, smtp_server, celery_worker, second_worker):
    pm, batch, contacts = big_batch(org, SIZE)
    services.send_batch_now(batch=batch, actor=pm.user)
    assert wait_for(lambda: Batch.objects.get(pk=batch.pk).state == "sent", timeout=120)
    sent_at = timezone.now() - timedelta(days=4, minutes=1)
    SurveyRequest.objects.filter(batch=batch).update(sent_at=sent_at, next_reminder_at=sent_at + timedelta(days=4))

    # What two beat processes would publish: every periodic task, twice, to two competing workers.
    for entry in celery_app.conf.beat_schedule.values():
        for _ in range(2):
            celery_app.send_task(entry["task"], queue=celery_worker.queue)

    assert wait_for(
        lambda: not SurveyRequest.objects.filter(batch=batch, reminders_sent=0).exists(), timeout=120, interval=0.2
    )
    time.sleep(2)  # a duplicate reminder, if there were one, has reached the server by now
    counts = Counter(m["to"][0] for m in smtp_server.messages)
    assert set(counts) == {c.email for c in contacts}
    odd = {
        a: [(m["Subject"], m["Message-ID"], m["Date"]) for m in smtp_server.to(a)] for a, n in counts.items() if n != 2
    }
    assert odd == {}  # each contact: the survey mail and one reminder
    reminders = [m for m in smtp_server.messages if m["message"]["Subject"].startswith("Reminder:")]
    assert len(reminders) == SIZE
    assert set(SurveyRequest.objects.filter(batch=batch).values_list("reminders_sent", flat=True)) == {1}
