"""Tasks through a real Celery worker on Redis, mailing through a real SMTP server."""

import time

import pytest

from cxprogram.tenancy import services
from cxprogram.tenancy.models import Invitation
from cxprogram.tenancy.permissions import Role

pytestmark = [pytest.mark.worker, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def wait_for(condition, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def test_invitation_mail_is_sent_by_the_worker_after_commit(org, owner, smtp_server, celery_worker):
    invitation = services.invite_member(
        organization=org, actor=owner.user, email="new@acme.example", roles=[Role.PROJECT_MANAGER]
    )
    assert wait_for(lambda: smtp_server.to("new@acme.example"))
    mail = smtp_server.to("new@acme.example")[0]
    assert "Acme Consulting" in mail["Subject"]
    assert services.invitation_url(invitation) in smtp_server.text(mail)
    assert wait_for(lambda: Invitation.objects.get(pk=invitation.pk).sent_count == 1)


def test_a_duplicated_task_does_not_mail_twice(org, owner, smtp_server, celery_worker):
    from cxprogram.tenancy.tasks import send_invitation_email

    invitation = services.invite_member(
        organization=org, actor=owner.user, email="once@acme.example", roles=[Role.STAFF]
    )
    send_invitation_email.delay(invitation.pk)  # as if the broker delivered it again
    send_invitation_email.delay(invitation.pk)
    assert wait_for(lambda: Invitation.objects.get(pk=invitation.pk).sent_count == 1)
    time.sleep(1.0)  # give any duplicate time to arrive
    assert len(smtp_server.to("once@acme.example")) == 1
