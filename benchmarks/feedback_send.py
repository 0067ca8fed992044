"""Feedback sending: a batch of 10,000 survey requests through real Celery workers (two processes) to a
local SMTP server that counts mails. Reports requests enqueued per second (creating the request rows and
queueing the dispatchers, i.e. what "Send now" costs) and mails delivered per second, and checks every
contact got exactly one mail.

Goals: enqueue 10,000 in under 3 s; deliver at least 300 mails/s with two worker processes.
Run alone: `python -m benchmarks.feedback_send [--quick]` (uses the bench database, like `make bench`)."""

import sys
import time

from benchmarks.common import CountingSmtpServer, Result, celery_worker, process_env

SIZE, QUICK_SIZE = 10_000, 1_000
ENQUEUE_GOAL_SECONDS = 3.0
DELIVERY_GOAL = 300.0


def build_batch(size: int):
    from cxprogram.accounts.models import User
    from cxprogram.tenancy.context import activate
    from cxprogram.tenancy.models import Membership, Organization
    from cxprogram.tenancy.permissions import Role
    from feedback import services
    from feedback.models import Client, Contact, Project

    Organization.objects.filter(slug="bench-feedback").delete()
    organization = Organization.objects.create(name="Bench Feedback Co", slug="bench-feedback")
    activate(organization)
    user, _ = User.objects.get_or_create(email="pm@bench-feedback.example", defaults={"full_name": "Bench PM"})
    pm = Membership.objects.create(organization=organization, user=user, roles=[Role.PROJECT_MANAGER])
    client = Client.objects.create(organization=organization, name="Bench Client", account_owner=pm)
    Contact.objects.bulk_create(
        [
            Contact(organization=organization, client=client, name=f"Person {n}", email=f"p{n}@bench.example")
            for n in range(size)
        ],
        batch_size=5000,
    )
    project = Project.objects.create(
        organization=organization, client=client, code="BENCH-1", name="Bench", project_manager=pm
    )
    contacts = list(Contact.objects.for_org(organization))
    batch = services.create_batch(
        organization=organization, actor=user, sender=pm, projects=[project], contacts=contacts
    )
    return pm, batch


def run(quick: bool = False) -> list[Result]:
    from django.db import transaction

    from feedback import services
    from feedback.models import Batch

    size = QUICK_SIZE if quick else SIZE
    pm, batch = build_batch(size)
    with CountingSmtpServer() as smtp:
        env = process_env(EMAIL_HOST="127.0.0.1", EMAIL_PORT=smtp.port)
        with celery_worker(env, concurrency=2):
            started = time.monotonic()
            with transaction.atomic():
                services.send_batch_now(batch=batch, actor=pm.user)
            enqueued = time.monotonic() - started
            deadline = time.monotonic() + max(600, size / 10)
            while smtp.count < size and time.monotonic() < deadline:
                time.sleep(0.05)
            delivered = time.monotonic() - started
            time.sleep(1)  # anything late (a duplicate) would show now
    state = Batch.objects.get(pk=batch.pk).state
    duplicates = sum(1 for n in smtp.recipients.values() if n > 1)
    per_second = smtp.count / delivered if delivered else float("nan")
    return [
        Result(
            "feedback_send",
            f"requests enqueued per second ({size} requests)",
            size / enqueued,
            "req/s",
            f"{size} in < {ENQUEUE_GOAL_SECONDS:.0f} s",
            enqueued < ENQUEUE_GOAL_SECONDS * size / SIZE,
        ),
        Result(
            "feedback_send",
            "mails delivered per second (2 worker processes)",
            per_second,
            "mail/s",
            f">= {DELIVERY_GOAL:.0f}",
            per_second >= DELIVERY_GOAL,
        ),
        Result(
            "feedback_send",
            f"contacts with exactly one mail (batch {state})",
            len(smtp.recipients) - duplicates,
            "contacts",
            f"= {size}",
            len(smtp.recipients) - duplicates == size and duplicates == 0,
        ),
    ]


if __name__ == "__main__":
    from benchmarks.run import prepare_database, print_table, setup_django

    prepare_database()
    setup_django()
    print_table(run(quick="--quick" in sys.argv))
