"""CSV import of revenue and proposals, with the rules of every import in the product: every row is checked
first and a row-by-row report says what is wrong; nothing is imported until the whole file is clean; importing
the same file again updates rows instead of duplicating them (revenue matches on client and month, proposals
on their reference)."""

import codecs
import csv
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from cxprogram.audit.services import record
from cxprogram.tenancy.models import Unit
from feedback.models import Client

from .models import ProposalRecord, RevenueRecord
from .selectors import month_start

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 250_000
REPORT_LIMIT = 500
CHUNK_ROWS = 1_000  # rows written per statement

REVENUE_COLUMNS = {"client": True, "month": True, "amount": True}
PROPOSAL_COLUMNS = {
    "reference": True,
    "title": True,
    "submitted_on": True,
    "outcome": False,
    "decided_on": False,
    "client": False,
    "prospect": False,
    "unit": False,
    "value": False,
}


@dataclass
class Report:
    rows: int = 0
    errors: list = field(default_factory=list)  # [(line number, [messages])]
    error_rows: int = 0
    created: int = 0
    updated: int = 0

    @property
    def imported(self) -> bool:
        return not self.error_rows and self.rows > 0

    def add(self, line: int, messages: list[str]) -> None:
        self.error_rows += 1
        if len(self.errors) < REPORT_LIMIT:
            self.errors.append((line, messages))

    def as_dict(self) -> dict:
        return {
            "rows": self.rows,
            "imported": self.imported,
            "created": self.created,
            "updated": self.updated,
            "error_rows": self.error_rows,
            "errors": [{"line": line, "messages": messages} for line, messages in self.errors],
        }


def rows(uploaded, columns: dict) -> Iterator[tuple[int, dict]]:
    """(line number, {column: value}) for each row of an uploaded CSV, or a ValidationError for the whole file.
    Streamed: the file is read line by line, never held whole in memory; iterate again to read it again."""
    name = getattr(uploaded, "name", "") or ""
    if not name.lower().endswith(".csv"):
        raise ValidationError({"file": "Upload a .csv file."})
    if uploaded.size > MAX_BYTES:
        raise ValidationError({"file": f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB."})
    # The file object itself, read line by line: Django's in-memory upload iterates its whole content at once.
    source = getattr(uploaded, "file", uploaded)
    source.seek(0)
    if b"\x00" in source.read(4096):
        raise ValidationError({"file": "This is not a text (CSV) file."})
    source.seek(0)
    reader = csv.reader(codecs.iterdecode(source, "utf-8-sig"))
    count = 0
    try:
        header = [h.strip().lower().replace(" ", "_") for h in next(reader, [])]
        missing = [c for c, required in columns.items() if required and c not in header]
        if missing:
            raise ValidationError({"file": f"The header row needs the columns: {', '.join(missing)}."})
        for line, values in enumerate(reader, start=2):
            if not any(v.strip() for v in values):
                continue
            count += 1
            if count > MAX_ROWS:
                raise ValidationError({"file": f"The file has more than {MAX_ROWS:,} rows: split it."})
            yield line, {h: (values[i].strip() if i < len(values) else "") for i, h in enumerate(header)}
    except UnicodeDecodeError:
        raise ValidationError({"file": "The file is not UTF-8 text. Save it as “CSV UTF-8” and try again."})
    except csv.Error as error:
        raise ValidationError({"file": f"The CSV could not be read: {error}."})
    if not count:
        raise ValidationError({"file": "The file has no rows below its header."})


def read(uploaded, columns: dict) -> list[tuple[int, dict]]:
    """All the rows at once (for files whose rows are few, like proposals)."""
    return list(rows(uploaded, columns))


def _amount(value: str, errors: list, label: str, required=True) -> Decimal | None:
    if not value:
        if required:
            errors.append(f"{label} is missing.")
        return None
    try:
        amount = Decimal(value.replace(",", "").replace("$", ""))
    except InvalidOperation:
        errors.append(f"{label} “{value}” is not a number.")
        return None
    # is_finite first: comparing NaN raises InvalidOperation.
    if not amount.is_finite() or amount < 0 or amount >= Decimal("1e12"):
        errors.append(f"{label} must be zero or more (and under a trillion).")
        return None
    return amount.quantize(Decimal("0.01"))


@lru_cache(maxsize=256)  # a file repeats few distinct dates (revenue: its months): parse each once
def _parse_date(value: str, formats: tuple[str, ...]) -> date | None:
    for fmt in formats:
        try:
            return datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    return None


def _date(value: str, errors: list, label: str, formats=("%Y-%m-%d",), required=True) -> date | None:
    if not value:
        if required:
            errors.append(f"{label} is missing.")
        return None
    parsed = _parse_date(value, formats)
    if parsed is None:
        errors.append(f"{label} “{value}” is not a date ({' or '.join(f.replace('%', '') for f in formats)}).")
    return parsed


def _revenue_row(values: dict, clients: dict, errors: list) -> tuple[int | None, date | None, Decimal | None]:
    """A row's client id, month (its first day) and amount; what is wrong goes into `errors`."""
    client = clients.get(values["client"].lower())
    if client is None:
        errors.append(f"No client is named “{values['client']}”." if values["client"] else "Client is missing.")
    month = _date(values["month"], errors, "Month", ("%Y-%m", "%Y-%m-%d"))
    amount = _amount(values["amount"], errors, "Amount")
    return client, month and month_start(month), amount


def _marked_before(earliest: dict, bits: dict, client: int, month: date) -> bool:
    """Mark the client's month; True if it was marked already. One bit per client and month (a Python int per
    client, a bit set from its earliest month), so the memory grows with the clients, not with the rows."""
    index = month.year * 12 + month.month
    base = earliest.setdefault(client, index)
    if index < base:
        bits[client] = bits.get(client, 0) << (base - index)
        earliest[client] = base = index
    bit, marked = 1 << (index - base), bits.get(client, 0)
    bits[client] = marked | bit
    return bool(marked & bit)


def _check_revenue(uploaded, clients: dict, repeated: set) -> tuple[Report, set]:
    """Check every row: the report, and the client-months that more than one row names. Finding those takes a
    bit each; naming the earlier line takes the lines, so "same client and month as line N" is said only of
    the client-months in `repeated`, found by an earlier check of the same file."""
    report, found, earliest, bits, last_line = Report(), set(), {}, {}, {}
    for line, values in rows(uploaded, REVENUE_COLUMNS):
        report.rows += 1
        errors = []
        client, month, _ = _revenue_row(values, clients, errors)
        if client and month:
            if _marked_before(earliest, bits, client, month):
                found.add((client, month))
            if (client, month) in repeated:
                if (client, month) in last_line:
                    errors.append(f"Same client and month as line {last_line[client, month]}.")
                last_line[client, month] = line
        if errors:
            report.add(line, errors)
    return report, found


def _upsert(records: list[RevenueRecord]) -> None:
    RevenueRecord.objects.bulk_create(
        records,
        update_conflicts=True,
        unique_fields=["organization", "client", "month"],
        update_fields=["amount", "source", "updated_at"],
    )


def import_revenue(*, organization, actor, uploaded, request=None) -> Report:
    """Streamed passes over the file, so memory does not grow with it: the first checks every row (a second
    one names the earlier line of repeated client-months, if any), the last writes the rows in chunks, in one
    transaction."""
    clients = {c.name.lower(): c.pk for c in Client.objects.for_org(organization).only("pk", "name")}
    report, repeated = _check_revenue(uploaded, clients, set())
    if repeated:
        report, _ = _check_revenue(uploaded, clients, repeated)
    if not report.imported:
        return report
    with transaction.atomic():
        records = RevenueRecord.objects.for_org(organization)
        before = records.count()
        now = timezone.now()
        chunk = []
        for _line, values in rows(uploaded, REVENUE_COLUMNS):
            client, month, amount = _revenue_row(values, clients, [])
            chunk.append(
                RevenueRecord(
                    organization=organization,
                    client_id=client,
                    month=month,
                    amount=amount,
                    source=RevenueRecord.Source.IMPORT,
                    updated_at=now,
                )
            )
            if len(chunk) == CHUNK_ROWS:
                _upsert(chunk)
                chunk = []
        if chunk:
            _upsert(chunk)
        report.created = records.count() - before  # every row is a client-month: new, or an update of one
        report.updated = report.rows - report.created
        record(
            organization=organization,
            actor=actor,
            verb="metrics.revenue_imported",
            payload={"file": getattr(uploaded, "name", ""), "created": report.created, "updated": report.updated},
            request=request,
        )
    return report


def import_proposals(*, organization, actor, uploaded, request=None) -> Report:
    rows = read(uploaded, PROPOSAL_COLUMNS)
    clients = {c.name.lower(): c.pk for c in Client.objects.for_org(organization).only("pk", "name")}
    units = {u.name.lower(): u.pk for u in Unit.objects.for_org(organization)}
    outcomes = {v: v for v in ProposalRecord.Outcome.values} | {
        label.lower(): v for v, label in ProposalRecord.Outcome.choices
    }
    report, parsed, seen = Report(rows=len(rows)), {}, {}
    for line, values in rows:
        errors = []
        reference = values["reference"]
        if not reference:
            errors.append("Reference is missing.")
        elif len(reference) > 60:
            errors.append("Reference is longer than 60 characters.")
        elif reference in seen:
            errors.append(f"Same reference as line {seen[reference]}.")
        seen.setdefault(reference, line)
        if not values["title"]:
            errors.append("Title is missing.")
        submitted = _date(values["submitted_on"], errors, "Submitted on")
        decided = _date(values.get("decided_on", ""), errors, "Decided on", required=False)
        outcome = outcomes.get((values.get("outcome") or "pending").lower())
        if outcome is None:
            errors.append(f"Outcome “{values['outcome']}” is not pending, won or lost.")
        elif outcome == "pending" and decided:
            errors.append("A pending proposal has no decision date.")
        elif outcome != "pending" and not decided:
            errors.append("A won or lost proposal needs its decision date (decided_on).")
        elif decided and submitted and decided < submitted:
            errors.append("The decision date comes before the submission.")
        client_id = clients.get(values.get("client", "").lower()) if values.get("client") else None
        if values.get("client") and client_id is None:
            errors.append(f"No client is named “{values['client']}”.")
        unit_id = units.get(values.get("unit", "").lower()) if values.get("unit") else None
        if values.get("unit") and unit_id is None:
            errors.append(f"No unit is named “{values['unit']}”.")
        value = _amount(values.get("value", ""), errors, "Value", required=False)
        if errors:
            report.add(line, errors)
        else:
            parsed[reference] = {
                "title": values["title"][:200],
                "prospect": values.get("prospect", "")[:200],
                "client_id": client_id,
                "unit_id": unit_id,
                "value": value,
                "submitted_on": submitted,
                "outcome": outcome,
                "decided_on": decided,
            }
    if not report.imported:
        return report
    with transaction.atomic():
        existing = {p.reference: p for p in ProposalRecord.objects.for_org(organization).filter(reference__in=parsed)}
        now = timezone.now()
        new, changed = [], []
        for reference, values in parsed.items():
            row = existing.get(reference) or ProposalRecord(organization=organization, reference=reference)
            unchanged = row.pk and row.source == RevenueRecord.Source.IMPORT
            if unchanged and all(getattr(row, name) == value for name, value in values.items()):
                continue  # as in every import: an unchanged row is neither written nor counted as updated
            for name, value in values.items():
                setattr(row, name, value)
            row.source, row.updated_at = RevenueRecord.Source.IMPORT, now
            (changed if row.pk else new).append(row)
        ProposalRecord.objects.bulk_create(new, batch_size=2000)
        ProposalRecord.objects.bulk_update(
            changed, [*parsed[next(iter(parsed))].keys(), "source", "updated_at"], batch_size=2000
        )
        report.created, report.updated = len(new), len(changed)
        record(
            organization=organization,
            actor=actor,
            verb="metrics.proposals_imported",
            payload={"file": getattr(uploaded, "name", ""), "created": report.created, "updated": report.updated},
            request=request,
        )
    return report
