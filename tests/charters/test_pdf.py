import hashlib
import subprocess

import pytest
from django.urls import reverse

from charters import services
from charters.models import CharterEvent

from .factories import draft_charter, sign_all

pytestmark = pytest.mark.django_db


def pdf_text(data: bytes, tmp_path) -> str:
    path = tmp_path / "charter.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdftotext", str(path), "-"], check=True, capture_output=True, text=True).stdout


def test_the_signed_pdf_holds_the_charter_the_signatures_and_a_certificate(
    org, editor, lead, supporter, lead_client, tmp_path
):
    version = draft_charter(org, editor)
    sign_all(
        services.send_for_signature(version=version, actor=editor.user, lead=lead, supporters=[supporter]),
        method="drawn",
    )
    version.refresh_from_db()
    url = reverse("charters:pdf", args=[org.slug, version.pk])
    response = lead_client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    data = b"".join(response.streaming_content)
    version.refresh_from_db()
    assert version.pdf_sha256 == hashlib.sha256(data).hexdigest() == response["X-Content-SHA256"]
    text = pdf_text(data, tmp_path)
    flat = " ".join(text.split())
    assert flat.index("Morgan Reyes") < flat.index("Purpose".upper()) < flat.index("Priya Natarajan")
    for expected in (
        "Client Experience Charter",
        "Purpose",
        "We design places where people thrive.",
        "Baseline",
        "Project managers",
        "Feedback participation",
        "Win rate",
        "RELATING",
        "MEASURING",
        "Spend an hour on site with a client's facilities team.",
        "Certificate of signature",
        version.content_hash,
        "Morgan Reyes",
        "Priya Natarajan",
        "Lead executive",
        "Supporting executive",
        "Sent for signature",
        "Signed",
        "Every signature in: in force",  # the trail in words, not its codes
    ):
        assert expected.lower() in flat.lower(), expected  # headings are upper-cased by the style sheet
    # Generated once: a second download serves the same file.
    again = b"".join(lead_client.get(url).streaming_content)
    assert again == data
    assert CharterEvent.objects.filter(verb="downloaded").count() == 2


def test_a_draft_has_no_pdf(org, editor, editor_client):
    version = draft_charter(org, editor)
    response = editor_client.get(reverse("charters:pdf", args=[org.slug, version.pk]))
    assert response.status_code == 302
    version.refresh_from_db()
    assert not version.pdf
