"""Revenue and proposal CSV imports, for any file: a clean file imports every row exactly as written (text that
looks like a formula or markup, unicode, commas, quotes and line breaks included) and importing it again adds
nothing; one bad row anywhere imports nothing and the report names that line."""

import csv
import io
from contextlib import contextmanager
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from hypothesis import given
from hypothesis import strategies as st

from cxprogram.tenancy.models import Unit
from feedback.models import Client
from metrics import imports
from metrics.models import ProposalRecord, RevenueRecord
from tests.csv_strategies import named, text_cell, with_db

pytestmark = pytest.mark.django_db

amounts = st.decimals(min_value=0, max_value=Decimal("999999999999.99"), places=2)


def other_case(name: str) -> str:
    """The name in other letter case, as the importer still matches it (its lower case is the same)."""
    flipped = name.swapcase()
    return flipped if flipped.lower() == name.lower() else name


def written(amount: Decimal, style: str) -> str:
    """An amount as a spreadsheet may export it."""
    return {"plain": str(amount), "thousands": f"{amount:,}", "dollars": f"${amount:,}"}[style]


@contextmanager
def rolled_back():
    """Each example starts from the same organization, without revenue or proposals."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def upload(header: list[str], rows: list[dict]) -> SimpleUploadedFile:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows([row.get(h, "") for h in header] for row in rows)
    return SimpleUploadedFile("data.csv", out.getvalue().encode("utf-8"), content_type="text/csv")


def with_blank_rows(draw, rows: list[dict], position: int) -> tuple[list[dict], int]:
    """Blank rows anywhere (spreadsheets export them as a line of empty cells); `position` follows its row."""
    rows = list(rows)
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(0, len(rows)))
        rows.insert(at, {})
        position += at <= position
    return rows, position


# --- Revenue -------------------------------------------------------------------------------------------------------

REVENUE = ["client", "month", "amount"]


@st.composite
def revenue_files(draw):
    """(client names to create, rows): one row per client and month."""
    clients = draw(st.lists(named, min_size=1, max_size=3, unique_by=str.lower))
    months = st.tuples(st.integers(2000, 2040), st.integers(1, 12))
    keys = draw(st.lists(st.tuples(st.sampled_from(clients), months), min_size=1, max_size=8, unique=True))
    rows = []
    for client, (year, month) in keys:
        day = draw(st.none() | st.integers(1, 28))
        amount = draw(amounts)
        rows.append(
            {
                "client": other_case(client) if draw(st.booleans()) else client,
                "month": f"{year}-{month:02d}" + (f"-{day:02d}" if day else ""),
                "amount": written(amount, draw(st.sampled_from(["plain", "thousands", "dollars"]))),
                "_expected": (client, date(year, month, 1), amount),
            }
        )
    return clients, rows


def make_clients(org, names):
    for name in names:
        Client.objects.create(organization=org, name=name)


def stored_revenue(org):
    return sorted(RevenueRecord.objects.for_org(org).values_list("client__name", "month", "amount", "source"))


@with_db
@given(case=revenue_files())
def test_a_clean_revenue_file_imports_every_row_and_again_adds_nothing(org, owner, case):
    clients, rows = case
    expected = sorted((*row["_expected"], "import") for row in rows)
    with rolled_back():
        make_clients(org, clients)
        report = imports.import_revenue(organization=org, actor=owner.user, uploaded=upload(REVENUE, rows))
        assert (report.imported, report.rows, report.created, report.updated) == (True, len(rows), len(rows), 0)
        assert stored_revenue(org) == expected
        again = imports.import_revenue(organization=org, actor=owner.user, uploaded=upload(REVENUE, rows))
        assert (again.imported, again.created) == (True, 0)
        assert stored_revenue(org) == expected


@st.composite
def bad_revenue_files(draw):
    """(clients, rows, the bad row's line): a clean file with one bad row at any position."""
    clients, rows = draw(revenue_files())
    what = draw(st.sampled_from(["client", "month", "amount", "repeat"]))
    original = draw(st.sampled_from(rows))
    row = {k: v for k, v in original.items() if k != "_expected"}
    first = 0
    if what == "repeat":
        # The same client and month as an earlier row, the month written the other way.
        month = row["month"][:7] if len(row["month"]) > 7 else row["month"] + "-15"
        row = {**row, "month": month, "client": row["client"].lower()}
        first = rows.index(original) + 1
    else:
        # Otherwise a month no other row has, so that only the one thing is wrong.
        row["month"] = "1999-12"
        if what == "client":
            row["client"] = draw(st.sampled_from(["", "Nobody Ltd"]))
        elif what == "month":
            row["month"] = draw(st.sampled_from(["", "2025-13", "Jan 2025", "2025/01", "01-2025"]))
        else:
            row["amount"] = draw(st.sampled_from(["", "abc", "-5", "NaN", "sNaN", "Infinity", "-Infinity", "1e12"]))
    position = draw(st.integers(first, len(rows)))
    records, position = with_blank_rows(draw, [*rows[:position], row, *rows[position:]], position)
    return clients, records, 2 + position  # line 1 is the header


@with_db
@given(case=bad_revenue_files())
def test_one_bad_revenue_row_anywhere_imports_nothing_and_is_named(org, owner, case):
    clients, records, line = case
    with rolled_back():
        make_clients(org, [c for c in clients if c.lower() != "nobody ltd"])
        report = imports.import_revenue(organization=org, actor=owner.user, uploaded=upload(REVENUE, records))
        assert not report.imported
        assert (report.error_rows, [n for n, _ in report.errors]) == (1, [line])
        assert (report.created, report.updated) == (0, 0)
        assert not RevenueRecord.objects.for_org(org).exists()


# --- Proposals -----------------------------------------------------------------------------------------------------

PROPOSALS = ["reference", "title", "submitted_on", "outcome", "decided_on", "client", "prospect", "unit", "value"]
OUTCOMES = {"": "pending", "pending": "pending", "Won": "won", "LOST": "lost"}
references = text_cell.map(lambda t: t[:60].strip()).filter(bool)


@st.composite
def proposal_files(draw):
    clients = draw(st.lists(named, min_size=1, max_size=2, unique_by=str.lower))
    keys = draw(st.lists(references, min_size=1, max_size=6, unique=True))
    rows = []
    for reference in keys:
        submitted = draw(st.dates(date(2000, 1, 1), date(2040, 1, 1)))
        outcome = draw(st.sampled_from(list(OUTCOMES)))
        decided = None if OUTCOMES[outcome] == "pending" else submitted + timedelta(draw(st.integers(0, 400)))
        client = draw(st.sampled_from(["", *clients]))
        unit = draw(st.sampled_from(["", "Buildings", "water"]))
        value = draw(st.none() | amounts)
        rows.append(
            {
                "reference": reference,
                "title": draw(named),
                "submitted_on": submitted.isoformat(),
                "outcome": outcome,
                "decided_on": decided.isoformat() if decided else "",
                "client": other_case(client) if draw(st.booleans()) else client,
                "prospect": draw(text_cell),
                "unit": unit,
                "value": "" if value is None else written(value, draw(st.sampled_from(["plain", "thousands"]))),
                "_expected_client": client,
                "_expected_value": value,
            }
        )
    return clients, rows


def stored_proposals(org):
    return sorted(
        (
            p.reference,
            p.title,
            p.submitted_on.isoformat(),
            p.outcome,
            p.decided_on.isoformat() if p.decided_on else "",
            p.client.name if p.client else "",
            p.prospect,
            p.unit.name if p.unit else "",
            p.value,
        )
        for p in ProposalRecord.objects.for_org(org).select_related("client", "unit")
    )


def expected_proposals(rows):
    units = {"": "", "buildings": "Buildings", "water": "Water"}
    return sorted(
        (
            r["reference"],
            r["title"],
            r["submitted_on"],
            OUTCOMES[r["outcome"]],
            r["decided_on"],
            r["_expected_client"],
            r["prospect"],
            units[r["unit"].lower()],
            r["_expected_value"],
        )
        for r in rows
    )


def make_units(org):
    Unit.objects.create(organization=org, name="Buildings")
    Unit.objects.create(organization=org, name="Water")


@with_db
@given(case=proposal_files())
def test_a_clean_proposals_file_imports_every_row_exactly_and_again_changes_nothing(org, owner, case):
    clients, rows = case
    with rolled_back():
        make_clients(org, clients)
        make_units(org)
        report = imports.import_proposals(organization=org, actor=owner.user, uploaded=upload(PROPOSALS, rows))
        assert (report.imported, report.rows, report.created, report.updated) == (True, len(rows), len(rows), 0)
        assert stored_proposals(org) == expected_proposals(rows)
        again = imports.import_proposals(organization=org, actor=owner.user, uploaded=upload(PROPOSALS, rows))
        assert (again.imported, again.created, again.updated) == (True, 0, 0)
        assert stored_proposals(org) == expected_proposals(rows)


@st.composite
def bad_proposal_files(draw):
    clients, rows = draw(proposal_files())
    what = draw(
        st.sampled_from(
            ["missing", "long reference", "repeat", "outcome", "pending decided", "undecided", "order", "client"]
            + ["unit", "value", "date"]
        )
    )
    original = draw(st.sampled_from(rows))
    row = dict(original)
    first = 0
    if what == "repeat":
        first = rows.index(original) + 1
    else:
        row["reference"] = "\u2116 " + row["reference"][:50]  # a reference no clean row has
        if what == "missing":
            row[draw(st.sampled_from(["reference", "title", "submitted_on"]))] = draw(st.sampled_from(["", "  "]))
        elif what == "long reference":
            row["reference"] = "\u2116 " + "x" * 60
        elif what == "outcome":
            row["outcome"] = "withdrawn"
        elif what == "pending decided":
            row["outcome"], row["decided_on"] = "pending", row["submitted_on"]
        elif what == "undecided":
            row["outcome"], row["decided_on"] = "won", ""
        elif what == "order":
            submitted = date.fromisoformat(row["submitted_on"])
            row["outcome"], row["decided_on"] = "lost", (submitted - timedelta(days=1)).isoformat()
        elif what == "client":
            row["client"] = "Nobody Ltd"
        elif what == "unit":
            row["unit"] = "Nowhere"
        elif what == "value":
            row["value"] = draw(st.sampled_from(["abc", "-1", "NaN", "Infinity", "1e12"]))
        else:
            row["submitted_on"] = draw(st.sampled_from(["2025-02-30", "02/03/2025", "soon"]))
    position = draw(st.integers(first, len(rows)))
    records, position = with_blank_rows(draw, [*rows[:position], row, *rows[position:]], position)
    return clients, records, 2 + position


@with_db
@given(case=bad_proposal_files())
def test_one_bad_proposal_row_anywhere_imports_nothing_and_is_named(org, owner, case):
    clients, records, line = case
    with rolled_back():
        make_clients(org, [c for c in clients if c.lower() != "nobody ltd"])
        make_units(org)
        report = imports.import_proposals(organization=org, actor=owner.user, uploaded=upload(PROPOSALS, records))
        assert not report.imported
        assert (report.error_rows, [n for n, _ in report.errors]) == (1, [line])
        assert (report.created, report.updated) == (0, 0)
        assert not ProposalRecord.objects.for_org(org).exists()
