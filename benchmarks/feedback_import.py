"""Feedback CSV import: 50,000 contacts (across 500 clients) uploaded, checked row by row and imported
in one transaction, then the same file again (every row an update). Reports the seconds of each step
and the peak memory Python allocated (tracemalloc, which also slows the run a little).
Run alone: `python -m benchmarks.feedback_import [--quick]` (uses the bench database, like `make bench`)."""

import sys

from benchmarks.common import Measured, Result

SIZE, QUICK_SIZE = 50_000, 5_000


def run(quick: bool = False) -> list[Result]:
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.db import transaction

    from cxprogram.tenancy.context import activate
    from cxprogram.tenancy.models import Organization
    from feedback import imports
    from feedback.models import Contact

    size = QUICK_SIZE if quick else SIZE
    Organization.objects.filter(slug="bench-import").delete()
    organization = Organization.objects.create(name="Bench Import Co", slug="bench-import")
    activate(organization)
    lines = ["client,name,email,title,kind,language"]
    lines += [f"Client {n % 500},Person {n},person{n}@import.example,Engineer,user,en" for n in range(size)]
    data = ("\n".join(lines) + "\n").encode()
    results = []
    for attempt in ("first import", "re-import (updates)"):
        with Measured() as measured:
            with transaction.atomic():
                job = imports.upload(
                    organization=organization, actor=None, kind="contacts", uploaded=SimpleUploadedFile("c.csv", data)
                )
                job = imports.validate(job=job, mapping=job.mapping)
            checked = measured.elapsed()
            job = imports.run_import(job)
        assert job.state == "done", job.report[:3]
        results += [
            Result("feedback_import", f"{attempt}: upload and check {size} rows", checked, "s"),
            Result(
                "feedback_import", f"{attempt}: write {size} rows (all or nothing)", measured.seconds - checked, "s"
            ),
            Result("feedback_import", f"{attempt}: peak Python memory ({size} rows)", measured.peak_mib, "MiB"),
        ]
    assert Contact.objects.for_org(organization).count() == size
    return results


if __name__ == "__main__":
    from benchmarks.run import prepare_database, print_table, setup_django

    prepare_database()
    setup_django()
    print_table(run(quick="--quick" in sys.argv))
