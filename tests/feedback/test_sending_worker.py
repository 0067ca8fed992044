"""Sending through a real Celery worker and a real SMTP server."""

from collections import Counter

import pytest

from feedback import services
from feedback.models import Batch, SurveyRequest
from tests.feedback.worker_helpers import big_batch, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_each_contact_gets_exactly_one_mail_even_when_dispatch_runs_twice(org, smtp_server, celery_worker):
    pm, batch, contacts = big_batch(org, 60)
    services.send_batch_now(batch=batch, actor=pm.user)
    # A duplicated dispatch (a retry, a redelivery) finds nothing left to claim.
    from feedback.tasks import dispatch_batch

    dispatch_batch.delay(org.pk, batch.pk)
    assert wait_for(lambda: Batch.objects.get(pk=batch.pk).state == "sent", timeout=60)
    dispatch_batch.delay(org.pk, batch.pk)
    assert wait_for(lambda: len(smtp_server.messages) >= 60, timeout=10)
    counts = Counter(m["to"][0] for m in smtp_server.messages)
    assert counts == Counter({c.email: 1 for c in contacts})
    batch.refresh_from_db()
    assert (batch.sent_count, batch.failed_count) == (60, 0)
    assert SurveyRequest.objects.filter(batch=batch, state="sent").exclude(message_id="").count() == 60
