"""Shared by the real-worker tests: a batch of many contacts, and waiting on the SMTP server."""

import time

from feedback import services
from feedback.models import Contact
from tests.feedback.factories import make_client, make_pm, make_project


def big_batch(org, size: int):
    pm = make_pm(org, email="paula@acme.example")
    client = make_client(org, "Big Client", account_owner=pm)
    Contact.objects.bulk_create(
        [
            Contact(organization=org, client=client, name=f"Person {n}", email=f"person{n}@big.example")
            for n in range(size)
        ]
    )
    project = make_project(client, project_manager=pm)
    contacts = list(Contact.objects.for_org(org).filter(client=client))
    batch = services.create_batch(organization=org, actor=pm.user, sender=pm, projects=[project], contacts=contacts)
    return pm, batch, contacts


def wait_for(condition, timeout: float, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return condition()
