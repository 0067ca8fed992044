"""Redis (the broker) stops in the middle of a batch and comes back empty: the web app stays up and
`/readyz` says the broker is down meanwhile; afterwards, with the stuck-request sweep doing what the
periodic task does, every contact has exactly one mail at the SMTP server."""

import os
import time
import uuid
from collections import Counter
from datetime import timedelta

import pytest
from django.test import Client

from cxprogram.celery import app as celery_app
from feedback import services
from feedback.models import Batch
from tests.faults.redis_server import PrivateRedis
from tests.feedback.worker_helpers import big_batch, wait_for
from tests.fixtures.worker import Worker, database_url

pytestmark = [pytest.mark.worker, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

SIZE = 200


def use_broker(url: str):
    celery_app.conf.broker_url = url
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@pytest.fixture
def private_redis(tmp_path, settings):
    server = PrivateRedis(tmp_path).start()
    previous = celery_app.conf.broker_url, celery_app.conf.task_default_queue
    settings.REDIS_URL = server.url
    use_broker(server.url)
    yield server
    server.stop()
    use_broker(previous[0])
    celery_app.conf.task_default_queue = previous[1]


@pytest.fixture
def worker_on_private_redis(private_redis, settings):
    queue = f"faults-{uuid.uuid4().hex[:8]}"
    celery_app.conf.task_default_queue = queue
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "REDIS_URL": private_redis.url,
        "SECRET_KEY": settings.SECRET_KEY,
        "DEBUG": "true",
        "SITE_URL": settings.SITE_URL,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "EMAIL_HOST": settings.EMAIL_HOST,
        "EMAIL_PORT": str(settings.EMAIL_PORT),
    }
    worker = Worker(env, queue).start()
    yield worker
    worker.stop()


def test_redis_stops_mid_batch_and_returns_every_mail_once(org, smtp_server, private_redis, worker_on_private_redis):
    pm, batch, contacts = big_batch(org, SIZE)
    services.send_batch_now(batch=batch, actor=pm.user)
    assert wait_for(lambda: len(smtp_server.messages) >= 30, timeout=60, interval=0.01)
    private_redis.stop()
    assert len(smtp_server.messages) < SIZE, "the batch finished before Redis stopped: make it bigger"

    web = Client()
    assert web.get("/healthz").status_code == 200
    ready = web.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["checks"] == {"database": "ok", "broker": "down"}
    time.sleep(1)

    private_redis.start()  # same port, empty: whatever was queued is gone
    assert web.get("/readyz").status_code == 200

    # What the periodic sweep does, as beat would call it while the batch is unfinished.
    def batch_sent():
        if Batch.objects.get(pk=batch.pk).state == "sent":
            return True
        services.requeue_stuck_requests(timedelta(seconds=5))
        return False

    assert wait_for(batch_sent, timeout=180, interval=3)
    time.sleep(0.5)
    counts = Counter(m["to"][0] for m in smtp_server.messages)
    assert [address for address, n in counts.items() if n != 1] == []
    assert set(counts) == {c.email for c in contacts}
    batch.refresh_from_db()
    assert batch.sent_count == SIZE
