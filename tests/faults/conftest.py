"""Fixtures shared by the fault tests."""

import pytest

from tests.fixtures.worker import Worker


@pytest.fixture
def second_worker(celery_worker):
    """Another real worker on the same queue: two workers compete for every message."""
    worker = Worker(celery_worker.env, celery_worker.queue).start()
    yield worker
    worker.stop()
