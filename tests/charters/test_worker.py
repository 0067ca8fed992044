"""Charter mail and the PDF through a real Celery worker on Redis: each mail once, even when the
broker delivers a task twice."""

import time

import pytest

from charters import services
from charters.models import CharterVersion
from charters.tasks import send_signature_request

from .factories import draft_charter

pytestmark = [pytest.mark.worker, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def wait_for(condition, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def test_signing_mails_and_pdf_go_through_the_worker_once(org, editor, lead, supporter, smtp_server, celery_worker):
    version = draft_charter(org, editor)
    signature_request = services.send_for_signature(
        version=version, actor=editor.user, lead=lead, supporters=[supporter]
    )
    lead_signer = signature_request.signers.get(membership=lead)
    send_signature_request.delay(lead_signer.pk)  # as if the broker delivered it again
    assert wait_for(lambda: smtp_server.to(lead.user.email))
    for signer in signature_request.signers.select_related("membership__user").order_by("position"):
        assert wait_for(lambda s=signer: smtp_server.to(s.membership.user.email))  # asked (lead first)
        signer.refresh_from_db()
        services.sign(signer=signer, user=signer.membership.user, consent=True, method="typed", typed_name="Signed")
    assert wait_for(lambda: CharterVersion.objects.get(pk=version.pk).pdf_sha256 != "")
    members = {editor.user.email, lead.user.email, supporter.user.email}
    assert wait_for(
        lambda: {m["to"][0] for m in smtp_server.messages if "Now in force" in m["message"]["Subject"]} == members
    )
    time.sleep(1.0)  # give any duplicate time to arrive
    assert len(smtp_server.to(lead.user.email)) == 2  # asked once, told once
    assert len(smtp_server.to(supporter.user.email)) == 2
