"""The signed charter as a PDF (WeasyPrint): the document with its signatures, then a certificate
page with the fingerprint, every signer's name, time, IP and signature, and the trail."""

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone

from . import content as doc
from . import selectors


def render_pdf(version) -> bytes:
    from weasyprint import HTML

    charter = version.charter
    organization = version.organization
    signers = selectors.signers_of(version)
    html = render_to_string(
        "charters/pdf/charter.html",
        {
            "organization": organization,
            "charter": charter,
            "version": version,
            "document": doc.build_document(
                kind=charter.kind,
                number=version.number,
                title=version.title,
                content=version.content,
                matrix=version.matrix,
            ),
            "signers": signers,
            "events": list(reversed(selectors.trail(charter, version, limit=200))),
            "generated_at": timezone.now(),
            "tz": organization.time_zone,
        },
    )
    return HTML(string=html, base_url=str(settings.BASE_DIR / "static") + "/").write_pdf()
