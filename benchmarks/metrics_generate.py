"""Data for the dashboard benchmark: 100 organizations, one of them large (10,000 clients, 40,000 contacts,
2,000 projects, 200 project managers in 20 units, ~1,000,000 responses to ~1,440,000 requests over 36 months,
follow-up cases, and 36 months of revenue per client with growth, decline, losses and wins); the 99 others
small (20 clients, 10 projects, ~2,000 responses each).

Rows go in with PostgreSQL COPY, generated as text in Python: about a minute for the large organization.
Synthetic on purpose: each project asks the contacts of five clients every month, a contact answers with a
probability that varies by unit, and scores improve slowly over the three years.

    python -m benchmarks.metrics_generate [--quick] [--force]
"""

import argparse
import io
import json
import random
import time
from datetime import UTC, datetime, timedelta

LARGE_SLUG = "bench-metrics-large"
SMALL_PREFIX = "bench-metrics-small-"
MONTHS = 36
REASONS = {
    "promoter": ["Clear plans and quick answers", "The team anticipated our questions", "Great coordination"],
    "passive": ["Good work but slow replies at times", "Fine overall", "Some schedule slips"],
    "detractor": ["Late drawings and missed deadlines", "Invoices were a surprise", "Slow to respond to our calls"],
}


SMALL_SIZE = {"clients": 20, "projects": 10, "managers": 3, "top_units": 2}  # each small organization


def sizes(quick: bool) -> dict:
    """The large organization's size (quick: ~50,000 responses instead of ~1,000,000) and how many small ones."""
    if quick:
        return {"clients": 500, "projects": 100, "managers": 20, "top_units": 5, "small_orgs": 9}
    return {"clients": 10_000, "projects": 2_000, "managers": 200, "top_units": 5, "small_orgs": 99}


class Ids:
    """Explicit ids after the current maximum of each table; sequences are moved past them at the end."""

    def __init__(self, cursor, tables):
        self.next = {}
        for table in tables:
            cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")  # noqa: S608 (table names are ours)
            self.next[table] = cursor.fetchone()[0] + 1

    def take(self, table, count=1) -> int:
        first = self.next[table]
        self.next[table] += count
        return first


def check_columns(cursor, table: str, columns: list[str]) -> None:
    """Fail clearly if a later migration added a required column this generator does not fill."""
    cursor.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = %s AND is_nullable = 'NO' "
        "AND column_default IS NULL",
        [table],
    )
    missing = {row[0] for row in cursor.fetchall()} - set(columns)
    if missing:
        raise RuntimeError(f"{table} has required columns the generator does not fill: {sorted(missing)}")


class Copier:
    """COPY rows into a table in chunks of preformatted text (tab-separated, \\N for NULL)."""

    def __init__(self, cursor, table, columns):
        check_columns(cursor, table, columns)
        self.cursor, self.table, self.columns = cursor, table, columns
        self.buffer, self.rows, self.count = io.StringIO(), 0, 0

    def add(self, *values):
        self.buffer.write("\t".join(r"\N" if v is None else str(v) for v in values))
        self.buffer.write("\n")
        self.rows += 1
        if self.rows >= 50_000:
            self.flush()

    def flush(self):
        if not self.rows:
            return
        with self.cursor.copy(f"COPY {self.table} ({', '.join(self.columns)}) FROM STDIN") as copy:
            copy.write(self.buffer.getvalue())
        self.count += self.rows
        self.buffer, self.rows = io.StringIO(), 0


def ts(moment: datetime) -> str:
    return moment.isoformat()


def generate(quick: bool = False, force: bool = False, log=print, large: bool = True, small_orgs: int = 0) -> dict:
    """Create the organizations unless they exist. Returns {"large": slug, "small": slug, "created": bool}.
    large=False: the small organizations only (a database to compare them with); small_orgs: how many."""
    from django.db import connection, transaction

    from cxprogram.tenancy.models import Organization

    size = sizes(quick)
    size["small_orgs"] = small_orgs or size["small_orgs"]
    result = {"large": LARGE_SLUG if large else None, "small": f"{SMALL_PREFIX}1"}
    existing = Organization.objects.filter(slug=LARGE_SLUG if large else f"{SMALL_PREFIX}1").first()
    if existing and not force:
        return {**result, "created": False}
    if existing:
        delete_generated(log)
    started = time.monotonic()
    now = datetime.now(UTC).replace(microsecond=0)
    first_month = datetime(now.year, now.month, 1, tzinfo=UTC)
    for _ in range(MONTHS - 1):
        first_month = (first_month - timedelta(days=1)).replace(day=1)
    tables = [
        "tenancy_organization", "accounts_user", "tenancy_unit", "tenancy_membership", "feedback_client",
        "feedback_contact", "feedback_project", "feedback_surveytemplate", "feedback_surveytemplateversion",
        "feedback_batch", "feedback_surveyrequest", "feedback_response", "feedback_followupcase",
        "metrics_revenuerecord",
    ]  # fmt: skip
    with transaction.atomic(), connection.cursor() as cursor:
        ids = Ids(cursor, tables)
        c = {
            "org": Copier(cursor, "tenancy_organization", ["id", "name", "slug", "time_zone", "logo",
                          "fiscal_year_start_month", "require_two_factor", "created_at"]),
            "user": Copier(cursor, "accounts_user", ["id", "password", "is_superuser", "first_name", "last_name",
                           "is_staff", "is_active", "date_joined", "email", "full_name"]),
            "unit": Copier(cursor, "tenancy_unit", ["id", "name", "organization_id", "parent_id"]),
            "member": Copier(cursor, "tenancy_membership", ["id", "roles", "title", "is_active", "joined_at",
                             "user_id", "organization_id", "unit_id"]),
            "client": Copier(cursor, "feedback_client", ["id", "name", "industry", "status", "tags", "created_at",
                             "updated_at", "organization_id", "unit_id"]),
            "contact": Copier(cursor, "feedback_contact", ["id", "name", "email", "title", "kind", "language",
                              "opted_out_reason", "bounce_reason", "soft_bounce_count", "created_at", "updated_at",
                              "client_id", "organization_id"]),
            "project": Copier(cursor, "feedback_project", ["id", "code", "name", "phase", "status", "created_at",
                              "updated_at", "client_id", "organization_id", "project_manager_id", "unit_id"]),
            "template": Copier(cursor, "feedback_surveytemplate", ["id", "name", "description", "phase",
                               "is_default", "created_at", "organization_id"]),
            "version": Copier(cursor, "feedback_surveytemplateversion", ["id", "number", "questions", "languages",
                              "created_at", "organization_id", "template_id"]),
            "batch": Copier(cursor, "feedback_batch", ["id", "name", "personal_message", "reply_to", "state",
                            "request_count", "skipped_count", "sent_count", "failed_count",
                            "created_at", "started_at", "finished_at", "organization_id", "sender_id",
                            "template_version_id"]),
            "request": Copier(cursor, "feedback_surveyrequest", ["id", "state", "nonce", "token_hash", "claim_id",
                              "attempts", "last_error", "sent_at", "message_id", "reminders_sent", "expires_at",
                              "responded_at", "draft_answers", "created_at", "batch_id", "contact_id",
                              "organization_id", "project_id"]),
            "response": Copier(cursor, "feedback_response", ["id", "contact_kind", "language", "nps_score",
                               "answers", "follow_up_requested", "submitted_at", "updated_at", "batch_id",
                               "client_id", "contact_id", "organization_id", "project_id", "project_manager_id",
                               "unit_id", "request_id", "template_version_id"]),
            "case": Copier(cursor, "feedback_followupcase", ["id", "trigger", "state", "due_at", "notes", "outcome",
                           "root_cause", "created_at", "updated_at", "closed_at", "client_id", "organization_id",
                           "owner_id", "unit_id", "project_id", "response_id"]),
            "revenue": Copier(cursor, "metrics_revenuerecord", ["id", "month", "amount", "source", "updated_at",
                              "client_id", "organization_id"]),
        }  # fmt: skip
        orgs = []
        if large:
            orgs.append((LARGE_SLUG, "Bench Metrics Large", *(size[k] for k in SMALL_SIZE)))
        for n in range(1, size["small_orgs"] + 1):
            orgs.append((f"{SMALL_PREFIX}{n}", f"Bench Metrics Small {n}", *SMALL_SIZE.values()))
        for slug, name, n_clients, n_projects, n_managers, n_top_units in orgs:
            # Seeded per organization: a small one has the same data with or without the large one.
            rng = random.Random(f"{slug}-7")  # noqa: S311 (synthetic data)
            _organization(c, ids, rng, now, first_month, slug, name, n_clients, n_projects, n_managers, n_top_units)
            if slug == LARGE_SLUG:
                log(f"   large organization laid out in {time.monotonic() - started:.0f} s")
        for copier in c.values():
            copier.flush()
        for table in tables:
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {ids.next[table] - 1})")
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"ANALYZE {table}")
    log(
        f"   {c['response'].count:,} responses, {c['request'].count:,} requests, {c['revenue'].count:,} revenue rows "
        f"in {time.monotonic() - started:.0f} s"
    )
    return {**result, "created": True}


def _organization(c, ids, rng, now, first_month, slug, name, n_clients, n_projects, n_managers, n_top_units):
    org = ids.take("tenancy_organization")
    c["org"].add(org, name, slug, "UTC", "", 1, "f", ts(now - timedelta(days=MONTHS * 31)))
    top = [ids.take("tenancy_unit") for _ in range(n_top_units)]
    subs = []
    for i, unit in enumerate(top):
        c["unit"].add(unit, f"Division {i + 1}", org, None)
        for j in range(3):
            sub = ids.take("tenancy_unit")
            c["unit"].add(sub, f"Division {i + 1} team {j + 1}", org, unit)
            subs.append(sub)
    managers = []
    for i in range(n_managers):
        user = ids.take("accounts_user")
        c["user"].add(user, "!", "f", "", "", "f", "t", ts(now), f"pm{i}-{slug}@bench.example", f"PM {i} {slug}")
        member = ids.take("tenancy_membership")
        unit = subs[i % len(subs)]
        c["member"].add(member, '["project_manager"]', "", "t", ts(now), user, org, unit)
        managers.append((member, unit))
    template, version = ids.take("feedback_surveytemplate"), ids.take("feedback_surveytemplateversion")
    c["template"].add(template, "Project feedback", "", "", "t", ts(now), org)
    questions = json.dumps([{"key": "nps", "kind": "nps", "required": True, "text": {"en": "Recommend us?"}}])
    c["version"].add(version, 1, questions, '["en"]', ts(now), org, template)

    clients, contacts = [], []
    first_client = ids.take("feedback_client", n_clients)
    first_contact = ids.take("feedback_contact", n_clients * 4)
    for i in range(n_clients):
        client = first_client + i
        unit = subs[(i // 5) % len(subs)]
        tags = '["key account"]' if i % 10 == 0 else "[]"
        c["client"].add(client, f"Client {i:05d}", "Industry", "active", tags, ts(now), ts(now), org, unit)
        clients.append((client, unit))
        for k, kind in enumerate(("decision_maker", "influencer", "user", "user")):
            contact = first_contact + 4 * i + k
            c["contact"].add(
                contact, f"Contact {i}-{k}", f"c{contact}@{slug}.example", "", kind, "en", "", "", 0,
                ts(now), ts(now), client, org,
            )  # fmt: skip
            contacts.append((contact, client, kind))
    for i, (client, _unit) in enumerate(clients):
        _revenue(c, ids, rng, first_month, org, client, i)

    clients_per_project = max(1, n_clients // n_projects)
    first_project = ids.take("feedback_project", n_projects)
    for p in range(n_projects):
        project = first_project + p
        manager, unit = managers[p % len(managers)]
        home_client = clients[(p * clients_per_project) % n_clients][0]
        c["project"].add(
            project, f"P-{p:05d}", f"Project {p}", "design", "active", ts(now), ts(now), home_client, org, manager, unit
        )
        asked = contacts[4 * p * clients_per_project % len(contacts) :][: 4 * clients_per_project]
        unit_bias = (subs.index(unit) % 5) * 0.03
        for m in range(MONTHS):
            month_start = first_month + timedelta(days=31 * m)
            month_start = month_start.replace(day=1)
            sent_at = min(month_start + timedelta(days=rng.randint(0, 27), hours=rng.randint(8, 17)), now)
            progress = m / MONTHS
            batch = ids.take("feedback_batch")
            c["batch"].add(
                batch, f"P-{p:05d} {month_start:%Y-%m}", "", "pm@bench.example", "sent", len(asked), 0, len(asked),
                0, ts(sent_at), ts(sent_at), ts(sent_at), org, manager, version,
            )  # fmt: skip
            first_request = ids.take("feedback_surveyrequest", len(asked))
            for offset, (contact, client, kind) in enumerate(asked):
                request = first_request + offset
                answered = rng.random() < 0.62 + unit_bias + 0.1 * progress
                responded = sent_at + timedelta(hours=rng.randint(2, 240)) if answered else None
                if responded and responded > now:
                    responded = None
                c["request"].add(
                    request, "sent", f"{request:032x}", f"{request:064x}", "", 1, "", ts(sent_at), "", 0,
                    ts(sent_at + timedelta(days=30)), ts(responded) if responded else None, "{}", ts(sent_at),
                    batch, contact, org, project,
                )  # fmt: skip
                if not responded:
                    continue
                score = _score(rng, progress + unit_bias)
                category = "promoter" if score >= 9 else "passive" if score >= 7 else "detractor"
                response = ids.take("feedback_response")
                answers = json.dumps({"nps": score, "reason": rng.choice(REASONS[category])})
                c["response"].add(
                    response, kind, "en", score, answers, "f", ts(responded), ts(responded), batch, client, contact,
                    org, project, manager, unit, request, version,
                )  # fmt: skip
                if category == "detractor" and rng.random() < 0.1:
                    due = responded + timedelta(days=2)
                    done = due < now - timedelta(days=3) or rng.random() < 0.5
                    closed = (due + timedelta(hours=rng.randint(-40, 60))) if done else None
                    c["case"].add(
                        ids.take("feedback_followupcase"), "detractor", "resolved" if done else "open", ts(due), "",
                        "", "", ts(responded), ts(responded), ts(closed) if closed else None, client, org, manager,
                        unit, project, response,
                    )  # fmt: skip


def _score(rng, progress: float) -> int:
    roll = rng.random()
    promoter, detractor = 0.38 + 0.2 * progress, 0.3 - 0.15 * progress
    if roll < promoter:
        return rng.choice((9, 10))
    if roll < promoter + detractor:
        return rng.randint(0, 6)
    return rng.choice((7, 8))


def _revenue(c, ids, rng, first_month, org, client, index):
    base = 2000 + (index * 7919) % 40000
    trend = ((index % 7) - 3) * 0.01  # from shrinking 3% to growing 3% a month
    start = 0 if index % 9 else rng.randint(1, MONTHS - 1)  # one client in nine is won during the period
    end = MONTHS if index % 11 else rng.randint(start + 1, MONTHS)  # one in eleven is lost
    month = first_month
    for m in range(MONTHS):
        if start <= m < end:
            amount = max(0, base * (1 + trend) ** m * (0.8 + 0.4 * rng.random()))
            c["revenue"].add(ids.take("metrics_revenuerecord"), month.date(), f"{amount:.2f}", "import",
                             ts(month), client, org)  # fmt: skip
        month = (month + timedelta(days=32)).replace(day=1)


def delete_generated(log=print) -> None:
    """Remove the generated organizations, table by table (the ORM's cascade would take too long)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id FROM tenancy_organization WHERE slug = %s OR slug LIKE %s", [LARGE_SLUG, SMALL_PREFIX + "%"]
        )
        org_ids = [row[0] for row in cursor.fetchall()]
        if not org_ids:
            return
        cursor.execute(
            "SELECT table_name FROM information_schema.columns WHERE column_name = 'organization_id' "
            "AND table_schema = 'public'"
        )
        tables = [row[0] for row in cursor.fetchall()]
        cursor.execute("SET session_replication_role = replica")  # skip FK checks while emptying
        for table in tables:
            cursor.execute(f"DELETE FROM {table} WHERE organization_id = ANY(%s)", [org_ids])
        cursor.execute("DELETE FROM accounts_user WHERE email LIKE %s", ["pm%-bench-metrics-%@bench.example"])
        cursor.execute("DELETE FROM tenancy_organization WHERE id = ANY(%s)", [org_ids])
        cursor.execute("SET session_replication_role = DEFAULT")
    log(f"   removed {len(org_ids)} generated organizations")


def main(argv=None) -> None:
    from benchmarks.run import prepare_database, setup_django

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--force", action="store_true", help="remove and generate again")
    args = parser.parse_args(argv)
    prepare_database()
    setup_django()
    print(generate(quick=args.quick, force=args.force))


if __name__ == "__main__":
    main()
