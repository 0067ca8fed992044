"""CSV import of clients, contacts and projects: upload → map columns → validate every row (a row-by-row
report) → import all or nothing. Re-importing updates rows matched by email (contacts), code (projects)
or name (clients). Large files are imported by a task; progress is published in the cache because the
import's own transaction is invisible until it commits."""

import csv
import io
from datetime import date

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from cxprogram.audit.services import record
from cxprogram.core.tasks import enqueue
from cxprogram.tenancy.models import Membership, Unit

from .models import LANGUAGES, Client, Contact, ImportJob, Project

MAX_BYTES = 10 * 1024 * 1024
MAX_ROWS = 100_000
INLINE_ROWS = 2_000  # larger files are imported by a task
REPORT_LIMIT = 1_000


def _max(model, field: str) -> int:
    return model._meta.get_field(field).max_length


# "max_length" is the column's limit in the database: a longer cell is a row error, not a failed import.
# "hint" tells the import page what a cell may hold; "example" fills the example file's row.
CLIENT_BY_NAME = {
    "label": "Client (name)",
    "required": True,
    "max_length": _max(Client, "name"),
    "hint": "A client missing from the list is added.",
    "example": "Mercy Health",
}
UNIT_BY_NAME = {"label": "Unit (name)", "hint": "One of your units, by name."}
FIELDS = {
    ImportJob.Kind.CLIENTS: {
        "name": {"label": "Name", "required": True, "max_length": _max(Client, "name"), "example": "Mercy Health"},
        "industry": {"label": "Industry", "max_length": _max(Client, "industry"), "example": "Hospitals"},
        "unit": UNIT_BY_NAME,
        "account_owner": {"label": "Account owner (email)", "hint": "A member's email."},
        "status": {"label": "Status", "hint": "active, prospect or inactive; active if empty.", "example": "active"},
        "tags": {"label": "Tags (separated by ;)", "example": "key account;renewal 2027"},
    },
    ImportJob.Kind.CONTACTS: {
        "client": CLIENT_BY_NAME,
        "name": {"label": "Name", "required": True, "max_length": _max(Contact, "name"), "example": "Ana Ruiz"},
        "email": {
            "label": "Email",
            "required": True,
            "max_length": _max(Contact, "email"),
            "hint": "Matches the contact on a second import.",
            "example": "ana.ruiz@mercy.example",
        },
        "title": {"label": "Title", "max_length": _max(Contact, "title"), "example": "Director of Facilities"},
        "kind": {
            "label": "Kind",
            "hint": "decision maker, influencer or user; decision maker if empty.",
            "example": "decision maker",
        },
        "language": {"label": "Language", "hint": "en, fr or es; en if empty.", "example": "es"},
    },
    ImportJob.Kind.PROJECTS: {
        "code": {
            "label": "Code",
            "required": True,
            "max_length": _max(Project, "code"),
            "hint": "Matches the project on a second import.",
            "example": "MH-2027-01",
        },
        "name": {"label": "Name", "required": True, "max_length": _max(Project, "name"), "example": "Patient Tower"},
        "client": CLIENT_BY_NAME,
        "project_manager": {"label": "Project manager (email)", "hint": "A member's email."},
        "unit": UNIT_BY_NAME,
        "phase": {
            "label": "Phase",
            "hint": "pursuit, planning, design, construction or closeout; design if empty.",
            "example": "construction",
        },
        "start_date": {"label": "Start date (YYYY-MM-DD)", "example": "2027-01-15"},
        "end_date": {"label": "End date (YYYY-MM-DD)", "example": "2028-06-30"},
        "status": {
            "label": "Status",
            "hint": "active, on hold, completed or cancelled; active if empty.",
            "example": "active",
        },
    },
}


def example(kind: str) -> tuple[list[str], list[str]]:
    """(header, row) of a file the import takes as it is: the columns by the names it matches and one row
    of examples (units and people left empty: they must be the organization's own)."""
    fields = FIELDS[kind]
    return list(fields), [spec.get("example", "") for spec in fields.values()]


def guess(header: list[str], field: str) -> str:
    """The column that most likely holds `field` (exact name, then a loose match)."""
    norm = {h: h.strip().lower().replace(" ", "_").replace("-", "_") for h in header}
    for h, n in norm.items():
        if n == field:
            return h
    aliases = {"email": ("e_mail", "mail", "email_address"), "name": ("full_name", "client_name", "contact_name")}
    for h, n in norm.items():
        if n in aliases.get(field, ()) or (field != "name" and field in n):
            return h
    return ""


def _records(content: str) -> list[tuple[int, list[str]]]:
    """[(spreadsheet row number, cells)] of the non-blank rows. Blank rows are skipped but still counted, so a
    report names the row number the spreadsheet shows."""
    sample = content[:4096]
    try:
        delimiter = csv.Sniffer().sniff(sample, delimiters=",;\t").delimiter
    except csv.Error:
        delimiter = ","
    # Only the delimiter is guessed: the sniffer's other guesses (quotes not doubled, ' as the quote) misread
    # cells that hold quotes, and every spreadsheet writes CSV with doubled double quotes.
    reader = csv.reader(io.StringIO(content), csv.excel, delimiter=delimiter)
    return [(n, row) for n, row in enumerate(reader, start=1) if any(cell.strip() for cell in row)]


def _read(content: str) -> tuple[list[str], list[list[str]]]:
    rows = [row for _, row in _records(content)]
    return (rows[0] if rows else []), rows[1:]


@transaction.atomic
def upload(*, organization, actor, kind: str, uploaded, request=None) -> ImportJob:
    """Check the file's size and type and keep its text. Nothing is imported yet."""
    name = uploaded.name or "upload.csv"
    if uploaded.size > MAX_BYTES:
        raise ValidationError({"file": f"The file is {uploaded.size // (1024 * 1024)} MB; the limit is 10 MB."})
    if not name.lower().endswith((".csv", ".txt")):
        raise ValidationError({"file": "Upload a .csv file (export your spreadsheet as CSV)."})
    raw = uploaded.read()
    if b"\x00" in raw[:8192]:
        raise ValidationError({"file": "This is not a text CSV file (it contains binary data)."})
    try:
        content = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationError({"file": "Save the file as UTF-8 CSV and upload it again."})
    try:
        header, rows = _read(content)
    except csv.Error as error:
        raise ValidationError({"file": f"The CSV could not be read: {error}."})
    if len(header) < 2 or not rows:
        raise ValidationError({"file": "The file needs a header row and at least one data row."})
    if len(rows) > MAX_ROWS:
        raise ValidationError({"file": f"The file has {len(rows)} rows; import at most {MAX_ROWS} at a time."})
    job = ImportJob.objects.create(
        organization=organization,
        kind=kind,
        filename=name[:255],
        size=len(raw),
        content=content,
        header=[h.strip() for h in header],
        row_count=len(rows),
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    job.mapping = {f: guess(job.header, f) for f in FIELDS[kind]}
    job.save(update_fields=["mapping"])
    record(
        organization=organization,
        actor=actor,
        verb="import.uploaded",
        target=job,
        payload={"kind": kind, "rows": len(rows)},
        request=request,
    )
    return job


def preview_rows(job: ImportJob, limit: int = 5) -> list[list[str]]:
    _, rows = _read(job.content[:20000])
    return rows[:limit]


def _choice(value: str, choices, default: str) -> str | None:
    if not value:
        return default
    v = value.strip().lower().replace(" ", "_").replace("-", "_")
    for key, label in choices:
        if v in (key, label.lower().replace(" ", "_")):
            return key
    return None


def _date(value: str):
    if not value:
        return None
    return date.fromisoformat(value.strip())


class _Lookups:
    """Everything rows refer to, loaded once."""

    def __init__(self, organization):
        self.units = {u.name.lower(): u for u in Unit.objects.for_org(organization)}
        self.members = {
            m.user.email.lower(): m for m in Membership.objects.for_org(organization).select_related("user")
        }
        self.clients = {c.name.lower(): c for c in Client.objects.for_org(organization)}


def _parse(job: ImportJob, mapping: dict) -> tuple[list[dict], list[dict]]:
    """(clean rows, report): every row validated; report items are {"row": n, "errors": [...]}."""
    fields = FIELDS[job.kind]
    missing = [spec["label"] for f, spec in fields.items() if spec.get("required") and not mapping.get(f)]
    if missing:
        raise ValidationError(f"Choose a column for: {', '.join(missing)}.")
    unknown = [c for c in mapping.values() if c and c not in job.header]
    if unknown:
        raise ValidationError(f"These columns are not in the file: {', '.join(unknown)}.")
    records = _records(job.content)
    header, rows = records[0][1], records[1:]
    index = {f: header.index(col) for f, col in mapping.items() if col}
    lookups = _Lookups(job.organization)
    clean, report, seen = [], [], {}
    key_field = {"clients": "name", "contacts": "email", "projects": "code"}[job.kind]
    for n, row in rows:
        values = {f: (row[i].strip() if i < len(row) else "") for f, i in index.items()}
        errors = []
        for f, spec in fields.items():
            if spec.get("required") and not values.get(f):
                errors.append(f"{spec['label']} is empty.")
            elif len(values.get(f, "")) > spec.get("max_length", MAX_BYTES):
                errors.append(f"{spec['label']} is longer than {spec['max_length']} characters.")
        item = {"row": n}
        if job.kind == ImportJob.Kind.CONTACTS:
            email = values.get("email", "").lower()
            if email:
                try:
                    validate_email(email)
                except ValidationError:
                    errors.append(f"“{values['email']}” is not a valid email address.")
            kind = _choice(values.get("kind", ""), Contact.Kind.choices, Contact.Kind.DECISION_MAKER)
            language = _choice(values.get("language", ""), LANGUAGES, "en")
            if kind is None:
                errors.append(f"Kind “{values['kind']}” is not one of decision maker, influencer, user.")
            if language is None:
                errors.append(f"Language “{values['language']}” is not one of en, fr, es.")
            item.update(
                client=values.get("client", ""),
                name=values.get("name", ""),
                email=email,
                title=values.get("title", ""),
                kind=kind,
                language=language,
            )
        elif job.kind == ImportJob.Kind.CLIENTS:
            status = _choice(values.get("status", ""), Client.Status.choices, Client.Status.ACTIVE)
            if status is None:
                errors.append(f"Status “{values['status']}” is not one of active, prospect, inactive.")
            item.update(
                name=values.get("name", ""),
                industry=values.get("industry", ""),
                status=status,
                tags=[t.strip() for t in values.get("tags", "").split(";") if t.strip()],
            )
            _refs(values, item, errors, lookups, owner_field="account_owner")
        else:
            phase = _choice(values.get("phase", ""), Project.Phase.choices, Project.Phase.DESIGN)
            status = _choice(values.get("status", ""), Project.Status.choices, Project.Status.ACTIVE)
            if phase is None:
                errors.append(f"Phase “{values['phase']}” is unknown.")
            if status is None:
                errors.append(f"Status “{values['status']}” is unknown.")
            try:
                start, end = _date(values.get("start_date", "")), _date(values.get("end_date", ""))
            except ValueError:
                errors.append("Write dates as YYYY-MM-DD.")
                start = end = None
            if start and end and end < start:
                errors.append("The end date is before the start date.")
            item.update(
                code=values.get("code", ""),
                name=values.get("name", ""),
                client=values.get("client", ""),
                phase=phase,
                status=status,
                start_date=start,
                end_date=end,
            )
            _refs(values, item, errors, lookups, owner_field="project_manager")
        key = (item.get(key_field) or "").lower()
        if key:
            if key in seen:
                errors.append(f"Duplicate of row {seen[key]} ({key_field} “{item[key_field]}”).")
            else:
                seen[key] = n
        if errors:
            if len(report) < REPORT_LIMIT:
                report.append({"row": n, "errors": errors})
        else:
            clean.append(item)
    error_rows = len(rows) - len(clean)
    if error_rows > len(report):
        report.append({"row": None, "errors": [f"…and {error_rows - len(report)} more rows with errors."]})
    return clean, report


def _refs(values, item, errors, lookups, *, owner_field):
    unit_name = values.get("unit", "")
    item["unit"] = lookups.units.get(unit_name.lower()) if unit_name else None
    if unit_name and item["unit"] is None:
        errors.append(f"Unit “{unit_name}” does not exist.")
    email = values.get(owner_field, "").lower()
    item[owner_field] = lookups.members.get(email) if email else None
    if email and item[owner_field] is None:
        errors.append(f"“{email}” is not a member of the organization.")


@transaction.atomic
def validate(*, job: ImportJob, mapping: dict, actor=None) -> ImportJob:
    """Check every row with this column mapping and keep the row-by-row report."""
    if job.state in (ImportJob.State.IMPORTING, ImportJob.State.DONE):
        raise ValidationError("This import has already run.")
    job.mapping = {f: c for f, c in mapping.items() if f in FIELDS[job.kind]}
    clean, report = _parse(job, job.mapping)
    job.report = report
    job.error_count = job.row_count - len(clean)
    job.state = ImportJob.State.INVALID if job.error_count else ImportJob.State.VALID
    job.save(update_fields=["mapping", "report", "error_count", "state"])
    return job


@transaction.atomic
def start_import(*, job: ImportJob, actor, request=None) -> ImportJob:
    from .tasks import run_import_task

    if not ImportJob.objects.filter(pk=job.pk, state=ImportJob.State.VALID).update(state=ImportJob.State.IMPORTING):
        raise ValidationError("Fix the errors in the report (or re-check the file) before importing.")
    record(organization=job.organization, actor=actor, verb="import.started", target=job, request=request)
    job.state = ImportJob.State.IMPORTING
    if job.row_count > INLINE_ROWS:
        enqueue(run_import_task, job.organization_id, job.pk)
    else:
        run_import(job)
    return job


def progress_key(job_id: int) -> str:
    return f"feedback:import-progress:{job_id}"


def run_import(job: ImportJob) -> ImportJob:
    """Validate again (data may have changed since the preview), then write every row, or none."""
    organization = job.organization
    clean, report = [], []
    try:
        with transaction.atomic():
            try:
                clean, report = _parse(job, job.mapping)
            except ValidationError as error:
                report = [{"row": None, "errors": error.messages}]
            if report:
                raise ValidationError("invalid")
            created, updated = _apply(job, clean)
            ImportJob.objects.filter(pk=job.pk).update(
                state=ImportJob.State.DONE,
                created_count=created,
                updated_count=updated,
                processed_rows=job.row_count,
                finished_at=timezone.now(),
                report=[],
                error_count=0,
            )
            record(
                organization=organization,
                actor=job.created_by,
                verb="import.done",
                target=job,
                payload={"created": created, "updated": updated},
            )
    except ValidationError:
        ImportJob.objects.filter(pk=job.pk).update(
            state=ImportJob.State.INVALID, report=report, error_count=job.row_count - len(clean)
        )
    cache.delete(progress_key(job.pk))
    job.refresh_from_db()
    return job


def progress(job: ImportJob) -> int:
    """Rows written so far by a running import."""
    return cache.get(progress_key(job.pk), 0) if job.state == ImportJob.State.IMPORTING else job.processed_rows


def _progress(job, done):
    cache.set(progress_key(job.pk), done, timeout=3600)


def _ensure_clients(organization, names: set[str]) -> dict:
    existing = {c.name.lower(): c for c in Client.objects.for_org(organization)}
    new = [Client(organization=organization, name=n) for n in sorted(names) if n.lower() not in existing]
    seen = set()
    new = [c for c in new if not (c.name.lower() in seen or seen.add(c.name.lower()))]
    for client in Client.objects.bulk_create(new, batch_size=1000):
        existing[client.name.lower()] = client
    if new and not all(c.pk for c in new):  # backends without RETURNING: reload
        existing = {c.name.lower(): c for c in Client.objects.for_org(organization)}
    return existing


def _current(instance, field: str):
    """A field's stored value without loading related rows (a foreign key compares by id)."""
    return getattr(instance, instance._meta.get_field(field).attname)


def _apply(job: ImportJob, rows: list[dict]) -> tuple[int, int]:
    organization = job.organization
    chunk = 1000
    if job.kind == ImportJob.Kind.CONTACTS:
        clients = _ensure_clients(organization, {r["client"] for r in rows})
        existing = {c.email: c for c in Contact.objects.for_org(organization)}
        fields = ["client", "name", "title", "kind", "language"]
        key, model = "email", Contact
        build = lambda r: {"client": clients[r["client"].lower()], **{f: r[f] for f in fields[1:]}}  # noqa: E731
    elif job.kind == ImportJob.Kind.PROJECTS:
        clients = _ensure_clients(organization, {r["client"] for r in rows})
        existing = {p.code.lower(): p for p in Project.objects.for_org(organization)}
        fields = ["name", "client", "project_manager", "unit", "phase", "start_date", "end_date", "status"]
        key, model = "code", Project
        build = lambda r: {**{f: r[f] for f in fields}, "client": clients[r["client"].lower()]}  # noqa: E731
    else:
        existing = {c.name.lower(): c for c in Client.objects.for_org(organization)}
        fields = ["industry", "unit", "account_owner", "status", "tags"]
        key, model = "name", Client
        build = lambda r: {f: r[f] for f in fields}  # noqa: E731
    to_create, to_update = [], []
    now = timezone.now()
    for n, row in enumerate(rows, start=1):
        values = build(row)
        found = existing.get(row[key].lower())
        if found:
            # Only rows that change are written: re-importing an unchanged file writes nothing.
            if any(_current(found, f) != (v.pk if hasattr(v, "pk") else v) for f, v in values.items()):
                for f, v in values.items():
                    setattr(found, f, v)
                found.updated_at = now
                to_update.append(found)
        else:
            to_create.append(model(organization=organization, **{key: row[key]}, **values))
        if n % chunk == 0:
            _progress(job, n // 2)
    for i in range(0, len(to_create), chunk):
        model.objects.bulk_create(to_create[i : i + chunk])
        _progress(job, (len(rows) + i + chunk) // 2)
    if to_update:
        model.objects.bulk_update(to_update, [*fields, "updated_at"], batch_size=200)
    return len(to_create), len(to_update)
