"""Revenue CSV import: 100,000 rows (2,778 clients × 36 months) checked and imported in one transaction, then
the same file again (every row an update); the same for a 10,000-row file of the same clients (so the one thing
that differs is the number of rows). Each is timed alone, then run a third time under tracemalloc for its peak
Python memory, which must not grow with the file: goal, the large file's peak at most 1.5× the small one's.
Run alone: `python -m benchmarks.revenue_import [--quick]` (uses the bench database, like `make bench`)."""

import math
import sys
from datetime import date

from benchmarks.common import Measured, Result

NAME = "revenue_import"
SIZES, QUICK_SIZES = (10_000, 100_000), (1_000, 10_000)
MONTHS = 36
SLUG = "bench-revenue-import"


def _file(rows: int, clients: int) -> bytes:
    """Row n: client n mod clients, the month after the previous pass over the clients."""
    lines = ["client,month,amount"]
    for n in range(rows):
        index = n // clients
        month = date(2023 + index // 12, index % 12 + 1, 1)
        lines.append(f"Client {n % clients:05d},{month:%Y-%m},{(n * 7919) % 50_000 + 0.25:.2f}")
    return ("\n".join(lines) + "\n").encode()


def run(quick: bool = False) -> list[Result]:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from cxprogram.tenancy.context import activate
    from cxprogram.tenancy.models import Organization
    from feedback.models import Client
    from metrics import imports
    from metrics.models import RevenueRecord

    small, large = QUICK_SIZES if quick else SIZES
    clients = math.ceil(large / MONTHS)
    Organization.objects.filter(slug=SLUG).delete()
    organization = Organization.objects.create(name="Bench Revenue Import Co", slug=SLUG)
    activate(organization)
    Client.objects.bulk_create(Client(organization=organization, name=f"Client {i:05d}") for i in range(clients))
    results, peaks = [], {}
    for size in (small, large):
        data = _file(size, clients)
        RevenueRecord.objects.for_org(organization).delete()
        for attempt, expected, memory in (
            ("new rows", "created", False),
            ("again: updates", "updated", False),
            ("", "updated", True),
        ):
            with Measured(memory=memory) as measured:
                report = imports.import_revenue(
                    organization=organization, actor=None, uploaded=SimpleUploadedFile("revenue.csv", data)
                )
            assert report.imported and getattr(report, expected) == size, report.as_dict()
            if not memory:
                results.append(Result(NAME, f"import {size:,} rows, {attempt}", measured.seconds, "s"))
        peaks[size] = measured.peak_mib  # of a third run: tracemalloc slows the run, so it is not timed
        results.append(Result(NAME, f"peak Python memory, {size:,} rows", peaks[size], "MiB"))
        assert RevenueRecord.objects.for_org(organization).count() == size
    ratio = peaks[large] / peaks[small]
    results.append(
        Result(NAME, f"peak memory {large:,} rows / {small:,} rows", ratio, "x", "<= 1.5x (flat)", ratio <= 1.5)
    )
    return results


if __name__ == "__main__":
    from benchmarks.run import prepare_database, print_table, setup_django

    prepare_database()
    setup_django()
    print_table(run(quick="--quick" in sys.argv))
