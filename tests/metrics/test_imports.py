"""The revenue import read as a stream: repeated client-months reported with the rows' other errors, files
larger than one write chunk (and than the upload memory limit) imported all or nothing, bad bytes anywhere."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from metrics import imports
from metrics.models import RevenueRecord
from tests.feedback.factories import make_client

pytestmark = pytest.mark.django_db


def post(owner_client, org, content: bytes):
    file = SimpleUploadedFile("revenue.csv", content, content_type="text/csv")
    return owner_client.post(reverse("metrics:revenue", args=[org.slug]), {"file": file}, follow=True)


def test_repeated_client_months_are_reported_in_line_order_with_other_errors(owner_client, org, data):
    text = (
        "client,month,amount\n"
        "Alpha Health,2025-01,100\n"
        "Bay Water,2025-01,5\n"
        "Alpha Health,2025-01,7\n"
        "Nobody,2025-02,1\n"
        "Alpha Health,2025-01-15,x\n"
        "Bay Water,2025-02,3\n"
    )
    response = post(owner_client, org, text.encode())
    report = response.context["report"]
    assert not report.imported and report.rows == 6 and report.error_rows == 3
    assert report.errors == [
        (4, ["Same client and month as line 2."]),
        (5, ["No client is named “Nobody”."]),
        (6, ["Amount “x” is not a number.", "Same client and month as line 4."]),
    ]
    assert "Same client and month as line 4." in response.content.decode()
    assert not RevenueRecord.objects.filter(organization=org, month=date(2025, 1, 1)).exists()


def test_a_file_of_several_chunks_on_disk_is_imported_all_or_nothing(owner_client, org, data, settings):
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 1024  # the upload goes to a temporary file, as large ones do
    clients = [make_client(org, f"Chunk client {i}") for i in range(25)]
    months = [date(2015 + m // 12, m % 12 + 1, 1) for m in range(2 * imports.CHUNK_ROWS // 25 + 20)]
    pairs = [(c, month) for month in months for c in clients]

    def csv_lines(add: int) -> list[str]:
        return [f"{c.name},{month:%Y-%m},{i + add}.50" for i, (c, month) in enumerate(pairs)]

    lines, total = csv_lines(0), len(pairs)
    assert total > 2 * imports.CHUNK_ROWS
    mine = RevenueRecord.objects.filter(organization=org, client__in=clients)

    bad = "client,month,amount\n" + "\n".join(lines) + "\nChunk client 0,1999-01,-5\n"
    response = post(owner_client, org, bad.encode())
    assert response.context["report"].error_rows == 1
    assert [line for line, _ in response.context["report"].errors] == [total + 2]
    assert not mine.exists()

    good = "\ufeffclient,month,amount\r\n" + "\r\n".join(lines) + "\r\n"  # Excel's "CSV UTF-8": BOM, CRLF
    response = post(owner_client, org, good.encode())
    assert f"Imported {total:,} rows: {total:,} new, 0 updated." in response.content.decode()
    assert mine.count() == total
    assert mine.get(client=clients[3], month=months[0]).amount == Decimal("3.50")

    again = "client,month,amount\n" + "\n".join(csv_lines(1000)) + "\nChunk client 0,1999-01,7\n"
    response = post(owner_client, org, again.encode())
    assert f"Imported {total + 1:,} rows: 1 new, {total:,} updated." in response.content.decode()
    assert mine.count() == total + 1
    assert mine.get(client=clients[3], month=months[0]).amount == Decimal("1003.50")
    assert {r.source for r in mine} == {RevenueRecord.Source.IMPORT}


def test_bytes_that_are_not_utf8_far_into_the_file_refuse_it(owner_client, org, data):
    rows = "".join(f"Alpha Health,{2000 + n // 12}-{n % 12 + 1:02d},10\n" for n in range(400))
    content = b"client,month,amount\n" + rows.encode() + "Bay Water,2025-01,caf\u00e9\n".encode("latin-1")
    assert len(content) > 8192  # past the part of the file checked for binary data
    response = post(owner_client, org, content)
    assert "The file is not UTF-8 text." in response.content.decode()
    assert not RevenueRecord.objects.filter(organization=org, month__year=2000).exists()
