"""Feedback sending: batches of 10,000 and 100,000 survey requests through real Celery workers (two processes) to a
local SMTP server that counts mails. Reports requests enqueued per second (creating the request rows and
queueing the dispatchers, i.e. what "Send now" costs) and mails delivered per second, and checks every
contact got exactly one mail.

Goals: enqueue 10,000 in under 3 s; deliver at least 300 mails/s with two worker processes; the 100,000
batch takes no more than 11 times the 10,000 one.
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

    Organization.objects.filter(slug=f"bench-feedback-{size}").delete()
    organization = Organization.objects.create(name="Bench Feedback Co", slug=f"bench-feedback-{size}")
    activate(organization)
    user, _ = User.objects.get_or_create(email=f"pm{size}@bench-feedback.example", defaults={"full_name": "Bench PM"})
    pm = Membership.objects.create(organization=organization, user=user, roles=[Role.PROJECT_MANAGER])
    client = Client.objects.create(organization=organization, name="Bench Client", account_owner=pm)
    Contact.objects.bulk_create(
        [
            Contact(organization=organization, client=client, name=f"Person {n}", email=f"p{n}-{size}@bench.example")
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


def send(size: int) -> dict:
    """Send one batch of `size` requests; the seconds to enqueue and to deliver, and the mail counts."""
    from django.db import transaction

    from feedback import services

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
    duplicates = sum(1 for n in smtp.recipients.values() if n > 1)
    return {
        "enqueued": enqueued,
        "delivered": delivered,
        "mails": smtp.count,
        "exactly_once": len(smtp.recipients) - duplicates if duplicates == 0 else 0,
    }


def run(quick: bool = False) -> list[Result]:
    small, large = (QUICK_SIZE, QUICK_SIZE * 10) if quick else (SIZE, SIZE * 10)
    results, times = [], {}
    for size in (small, large):
        figures = send(size)
        times[size] = figures["delivered"]
        per_second = figures["mails"] / figures["delivered"] if figures["delivered"] else float("nan")
        enqueue_goal = ENQUEUE_GOAL_SECONDS * size / SIZE
        results += [
            Result(
                "feedback_send",
                f"requests enqueued per second ({size} requests)",
                size / figures["enqueued"],
                "req/s",
                f"{size} in < {enqueue_goal:.0f} s" if size == small else "",
                figures["enqueued"] < enqueue_goal if size == small else None,
            ),
            Result(
                "feedback_send",
                f"mails delivered per second ({size}, 2 processes)",
                per_second,
                "mail/s",
                f">= {DELIVERY_GOAL:.0f}",
                per_second >= DELIVERY_GOAL,
            ),
            Result(
                "feedback_send",
                f"contacts with exactly one mail ({size})",
                figures["exactly_once"],
                "contacts",
                f"= {size}",
                figures["exactly_once"] == size,
            ),
        ]
    ratio = times[large] / times[small]
    results.append(Result("feedback_send", f"batch time {large} / {small}", ratio, "x", "<= 11", ratio <= 11))
    return results


if __name__ == "__main__":
    from benchmarks.run import prepare_database, print_table, setup_django

    prepare_database()
    setup_django()
    print_table(run(quick="--quick" in sys.argv))
