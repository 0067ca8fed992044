"""A worker killed with SIGKILL in the middle of a batch: after a restart and the stuck-request sweep,
every contact has exactly one mail at the SMTP server."""

import time
from collections import Counter
from datetime import timedelta

import pytest

from feedback import services
from feedback.models import Batch, SurveyRequest
from tests.feedback.worker_helpers import big_batch, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

SIZE = 600


def test_sigkill_mid_batch_then_restart_delivers_each_mail_exactly_once(org, smtp_server, celery_worker):
    pm, batch, contacts = big_batch(org, SIZE)
    services.send_batch_now(batch=batch, actor=pm.user)
    assert wait_for(lambda: len(smtp_server.messages) >= 150, timeout=60, interval=0.01)
    celery_worker.kill()
    delivered_at_kill = len(smtp_server.messages)
    assert delivered_at_kill < SIZE, "the batch finished before the kill: make it bigger"
    assert SurveyRequest.objects.filter(batch=batch, state__in=["queued", "sending"]).exists()
    time.sleep(0.5)  # anything the dead worker had in flight has reached the server (or never will)
    # What the periodic sweep does (with no grace period here): stuck requests back to the queue and the
    # batch dispatched again. It runs before the restart, so the new worker cannot finish the batch first.
    assert services.requeue_stuck_requests(timedelta(0)) == [(org.pk, batch.pk)]
    celery_worker.start()
    finished = wait_for(lambda: Batch.objects.get(pk=batch.pk).state == "sent", timeout=120)
    states = Counter(SurveyRequest.objects.filter(batch=batch).values_list("state", flat=True))
    assert finished, f"batch not finished: requests by state {dict(states)}, {len(smtp_server.messages)} mails"
    time.sleep(0.5)
    counts = Counter(m["to"][0] for m in smtp_server.messages)
    assert len(counts) == SIZE
    assert [address for address, n in counts.items() if n != 1] == []
    assert set(counts) == {c.email for c in contacts}
    batch.refresh_from_db()
    assert batch.sent_count == SIZE
