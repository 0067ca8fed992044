"""CSV import of clients, contacts and projects, for any file: a clean file imports every row exactly as written
(formula-like text, markup, unicode, commas, quotes and line breaks included) and importing it again changes
nothing; one bad row anywhere imports nothing and the report names that row, counted as a spreadsheet does."""

import csv
import io
import string
from contextlib import contextmanager
from datetime import date, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from hypothesis import given
from hypothesis import strategies as st

from cxprogram.tenancy.models import Unit
from feedback import imports
from feedback.models import Client, Contact, ImportJob, Project
from tests.csv_strategies import named, text_cell, tricky, typed, with_db

pytestmark = pytest.mark.django_db

atoms = st.text(string.ascii_letters + string.digits + "+_-'", min_size=1, max_size=8)
emails = st.builds(
    lambda parts, domain: ".".join(parts) + "@" + domain,
    st.lists(atoms, min_size=1, max_size=2),
    st.sampled_from(["harbor.example", "City-Schools.EXAMPLE", "mail.client.example"]),
)


@contextmanager
def rolled_back():
    """Each example starts from the same empty organization."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def write_csv(header: list[str], rows: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows([row.get(h, "") for h in header] for row in rows)
    return out.getvalue()


def check(org, owner, kind: str, text: str) -> ImportJob:
    uploaded = SimpleUploadedFile(f"{kind}.csv", text.encode("utf-8"), content_type="text/csv")
    job = imports.upload(organization=org, actor=owner.user, kind=kind, uploaded=uploaded)
    return imports.validate(job=job, mapping=job.mapping)


def import_all(org, owner, kind: str, text: str) -> ImportJob:
    job = check(org, owner, kind, text)
    assert (job.state, job.report) == ("valid", [])
    job = imports.start_import(job=job, actor=owner.user)
    job.refresh_from_db()
    assert job.state == "done"
    return job


def cased(value: str, flip: bool) -> str:
    """`value`, or the same in other letter case where the importer still matches it (same lower case)."""
    flipped = value.swapcase()
    return flipped if flip and flipped.lower() == value.lower() else value


# --- What a clean file of each kind holds, and what the database must hold after it -----------------------------

CONTACTS = ["client", "name", "email", "title", "kind", "language"]
KINDS = {"": "decision_maker", "decision maker": "decision_maker", "Influencer": "influencer", "USER": "user"}
LANGUAGES = {"": "en", "en": "en", "FR": "fr", "es": "es"}


@st.composite
def contact_files(draw):
    clients = draw(st.lists(named, min_size=1, max_size=3, unique_by=str.lower))
    addresses = draw(st.lists(emails, min_size=1, max_size=6, unique_by=str.lower))
    return [
        {
            "client": draw(st.sampled_from(clients)),
            "name": draw(named),
            "email": email,
            "title": draw(text_cell),
            "kind": draw(st.sampled_from(list(KINDS))),
            "language": draw(st.sampled_from(list(LANGUAGES))),
        }
        for email in addresses
    ]


def stored_contacts(org):
    return sorted(
        Contact.objects.for_org(org).values_list("email", "client__name", "name", "title", "kind", "language")
    )


def expected_contacts(rows):
    return sorted(
        (r["email"].lower(), r["client"], r["name"], r["title"], KINDS[r["kind"]], LANGUAGES[r["language"]])
        for r in rows
    )


CLIENTS = ["name", "industry", "unit", "account_owner", "status", "tags"]
CLIENT_STATUSES = {"": "active", "Active": "active", "prospect": "prospect", "INACTIVE": "inactive"}
tag = st.one_of(typed, tricky).map(lambda t: t.replace(";", ",").strip()).filter(bool)


@st.composite
def client_files(draw):
    names = draw(st.lists(named, min_size=1, max_size=6, unique_by=str.lower))
    return [
        {
            "name": name,
            "industry": draw(text_cell),
            "unit": draw(st.sampled_from(["", "Buildings", "wATER"])),
            "account_owner": draw(st.sampled_from(["", "owner@acme.example", "OWNER@Acme.example"])),
            "status": draw(st.sampled_from(list(CLIENT_STATUSES))),
            "tags": "; ".join(draw(st.lists(tag, max_size=3))),
        }
        for name in names
    ]


def stored_clients(org):
    return sorted(
        (c.name, c.industry, c.unit.name if c.unit else "", c.account_owner_id, c.status, c.tags)
        for c in Client.objects.for_org(org).select_related("unit")
    )


def expected_clients(rows, owner):
    units = {"": "", "buildings": "Buildings", "water": "Water"}
    return sorted(
        (
            r["name"],
            r["industry"],
            units[r["unit"].lower()],
            owner.pk if r["account_owner"] else None,
            CLIENT_STATUSES[r["status"]],
            [t.strip() for t in r["tags"].split(";") if t.strip()],
        )
        for r in rows
    )


PROJECTS = ["code", "name", "client", "project_manager", "unit", "phase", "start_date", "end_date", "status"]
PHASES = {"": "design", "pursuit": "pursuit", "Planning": "planning", "CONSTRUCTION": "construction"}
PROJECT_STATUSES = {"": "active", "on hold": "on_hold", "On-Hold": "on_hold", "completed": "completed"}
codes = st.text(string.ascii_letters + string.digits + "-_./ ", min_size=1, max_size=40).map(str.strip).filter(bool)


@st.composite
def project_files(draw):
    clients = draw(st.lists(named, min_size=1, max_size=3, unique_by=str.lower))
    keys = draw(st.lists(codes, min_size=1, max_size=6, unique_by=str.lower))
    rows = []
    for code in keys:
        start = draw(st.none() | st.dates(date(2000, 1, 1), date(2040, 1, 1)))
        end = draw(st.none() | st.integers(0, 900).map(lambda d, s=start: (s or date(2030, 1, 1)) + timedelta(d)))
        rows.append(
            {
                "code": code,
                "name": draw(named),
                "client": draw(st.sampled_from(clients)),
                "project_manager": draw(st.sampled_from(["", "owner@acme.example", "Owner@ACME.example"])),
                "unit": draw(st.sampled_from(["", "buildings", "Water"])),
                "phase": draw(st.sampled_from(list(PHASES))),
                "start_date": start.isoformat() if start else "",
                "end_date": end.isoformat() if end else "",
                "status": draw(st.sampled_from(list(PROJECT_STATUSES))),
            }
        )
    return rows


def stored_projects(org):
    return sorted(
        (
            p.code,
            p.name,
            p.client.name,
            p.project_manager_id,
            p.unit.name if p.unit else "",
            p.phase,
            p.start_date.isoformat() if p.start_date else "",
            p.end_date.isoformat() if p.end_date else "",
            p.status,
        )
        for p in Project.objects.for_org(org).select_related("client", "unit")
    )


def expected_projects(rows, owner):
    units = {"": "", "buildings": "Buildings", "water": "Water"}
    return sorted(
        (
            r["code"],
            r["name"],
            r["client"],
            owner.pk if r["project_manager"] else None,
            units[r["unit"].lower()],
            PHASES[r["phase"]],
            r["start_date"],
            r["end_date"],
            PROJECT_STATUSES[r["status"]],
        )
        for r in rows
    )


def make_units(org):
    Unit.objects.create(organization=org, name="Buildings")
    Unit.objects.create(organization=org, name="Water")


# --- A clean file --------------------------------------------------------------------------------------------------


@with_db
@given(rows=contact_files())
def test_a_clean_contacts_file_imports_every_row_exactly_and_again_changes_nothing(org, owner, rows):
    with rolled_back():
        text = write_csv(CONTACTS, rows)
        job = import_all(org, owner, "contacts", text)
        assert (job.created_count, job.updated_count) == (len(rows), 0)
        assert stored_contacts(org) == expected_contacts(rows)
        assert sorted(Client.objects.for_org(org).values_list("name", flat=True)) == sorted({r["client"] for r in rows})
        again = import_all(org, owner, "contacts", text)
        assert (again.created_count, again.updated_count) == (0, 0)
        assert stored_contacts(org) == expected_contacts(rows)


@with_db
@given(rows=client_files())
def test_a_clean_clients_file_imports_every_row_exactly_and_again_changes_nothing(org, owner, rows):
    with rolled_back():
        make_units(org)
        text = write_csv(CLIENTS, rows)
        job = import_all(org, owner, "clients", text)
        assert (job.created_count, job.updated_count) == (len(rows), 0)
        assert stored_clients(org) == expected_clients(rows, owner)
        again = import_all(org, owner, "clients", text)
        assert (again.created_count, again.updated_count) == (0, 0)
        assert stored_clients(org) == expected_clients(rows, owner)


@with_db
@given(rows=project_files())
def test_a_clean_projects_file_imports_every_row_exactly_and_again_changes_nothing(org, owner, rows):
    with rolled_back():
        make_units(org)
        text = write_csv(PROJECTS, rows)
        job = import_all(org, owner, "projects", text)
        assert (job.created_count, job.updated_count) == (len(rows), 0)
        assert stored_projects(org) == expected_projects(rows, owner)
        again = import_all(org, owner, "projects", text)
        assert (again.created_count, again.updated_count) == (0, 0)
        assert stored_projects(org) == expected_projects(rows, owner)


# --- One bad row ---------------------------------------------------------------------------------------------------


@st.composite
def bad_contact(draw, rows):
    """(the bad row, the first position it may take: a duplicate comes after the row it repeats)."""
    row = dict(draw(st.sampled_from(rows)))
    what = draw(st.sampled_from(["email", "missing", "duplicate", "too long"]))
    if what == "duplicate":
        original = rows.index(next(r for r in rows if r["email"] == row["email"]))
        row["email"] = cased(row["email"], draw(st.booleans()))
        return row, original + 1
    row["email"] = "fresh." + row["email"]
    if what == "email":
        row["email"] = draw(st.sampled_from(["not-an-email", "ana@", "@harbor.example", "an a@x.example", "a@@b.c"]))
    elif what == "missing":
        row[draw(st.sampled_from(["client", "name", "email"]))] = draw(st.sampled_from(["", "   "]))
    elif what == "too long":
        row[draw(st.sampled_from(["client", "name", "title"]))] = draw(named) + "x" * 200
    return row, 0


@st.composite
def bad_client(draw, rows):
    row = dict(draw(st.sampled_from(rows)))
    what = draw(st.sampled_from(["missing", "duplicate", "unit", "owner", "status", "too long"]))
    if what == "duplicate":
        original = rows.index(next(r for r in rows if r["name"] == row["name"]))
        row["name"] = cased(row["name"], draw(st.booleans()))
        return row, original + 1
    row["name"] = "Fresh " + row["name"]
    if what == "missing":
        row["name"], row["industry"] = "", row["industry"] or "Design"  # otherwise a blank row, skipped
    elif what == "unit":
        row["unit"] = "Nowhere"
    elif what == "owner":
        row["account_owner"] = "stranger@acme.example"
    elif what == "status":
        row["status"] = "gone"
    else:
        row[draw(st.sampled_from(["name", "industry"]))] = "Fresh " + draw(named) + "x" * 200
    return row, 0


@st.composite
def bad_project(draw, rows):
    row = dict(draw(st.sampled_from(rows)))
    what = draw(st.sampled_from(["missing", "duplicate", "date", "order", "phase", "too long"]))
    if what == "duplicate":
        original = rows.index(next(r for r in rows if r["code"] == row["code"]))
        row["code"] = cased(row["code"], draw(st.booleans()))
        return row, original + 1
    row["code"] = "#" + row["code"][:30]
    if what == "missing":
        row[draw(st.sampled_from(["code", "name", "client"]))] = ""
    elif what == "date":
        row["start_date"] = draw(st.sampled_from(["2026-13-01", "01/02/2026", "soon"]))
    elif what == "order":
        row["start_date"], row["end_date"] = "2026-03-02", "2026-03-01"
    elif what == "phase":
        row["phase"] = "demolition"
    else:
        field = draw(st.sampled_from(["code", "name", "client"]))
        row[field] = ("#" if field == "code" else "") + draw(named) + "x" * 200
    return row, 0


def bad_files(files, bad):
    """(records, the bad row's spreadsheet row number): a clean file, one bad row at any position after `first`,
    and blank rows anywhere (spreadsheets export them as a line of empty cells)."""

    @st.composite
    def build(draw):
        rows = draw(files())
        row, first = draw(bad(rows))
        position = draw(st.integers(first, len(rows)))
        records = [*rows[:position], row, *rows[position:]]
        for _ in range(draw(st.integers(0, 3))):
            at = draw(st.integers(0, len(records)))
            records.insert(at, {})
            position += at <= position
        return records, 2 + position  # row 1 is the header

    return build()


def assert_nothing_imported_and_row_named(org, owner, kind, header, records, row_number):
    job = check(org, owner, kind, write_csv(header, records))
    assert job.state == "invalid"
    assert [item["row"] for item in job.report] == [row_number]
    assert job.error_count == 1
    with pytest.raises(imports.ValidationError):
        imports.start_import(job=job, actor=owner.user)
    assert not Contact.objects.for_org(org).exists()
    assert not Client.objects.for_org(org).exists()
    assert not Project.objects.for_org(org).exists()


@with_db
@given(case=bad_files(contact_files, bad_contact))
def test_one_bad_contact_row_anywhere_imports_nothing_and_is_named(org, owner, case):
    with rolled_back():
        assert_nothing_imported_and_row_named(org, owner, "contacts", CONTACTS, *case)


@with_db
@given(case=bad_files(client_files, bad_client))
def test_one_bad_client_row_anywhere_imports_nothing_and_is_named(org, owner, case):
    with rolled_back():
        make_units(org)
        assert_nothing_imported_and_row_named(org, owner, "clients", CLIENTS, *case)


@with_db
@given(case=bad_files(project_files, bad_project))
def test_one_bad_project_row_anywhere_imports_nothing_and_is_named(org, owner, case):
    with rolled_back():
        make_units(org)
        assert_nothing_imported_and_row_named(org, owner, "projects", PROJECTS, *case)
