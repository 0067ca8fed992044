"""Survey answering under load: gunicorn (2 workers, production settings) serves the public survey, and
a load generator in another process submits answers through valid links at 10, 50 and 100 concurrent
clients; the same for a bare Django view on the same server (the framework's floor), and the share of
the floor that a pair of views that reads one row and inserts one through the ORM gets (what a plain write
path pays here).

Goals: the survey submit path reaches at least 60% of the floor's throughput, p99 under 250 ms at 50
concurrent, no errors, and as many stored responses as accepted submits."""

import json
import resource
import subprocess
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

from benchmarks.common import Result, cpu_seconds_by_part, free_port, gunicorn, process_env

LEVELS = (10, 50, 100)
FLOOR, READ_AND_INSERT = "/_bench/floor/", "/_bench/read-and-insert/"  # the reference views
ANSWERS = {"nps": "9", "reason": "Clear plans and quick answers.", "responsiveness": "5"}


def make_links(count: int) -> tuple[object, list[str]]:
    from django.utils import timezone

    from cxprogram.accounts.models import User
    from cxprogram.core import tokens
    from cxprogram.tenancy.context import activate
    from cxprogram.tenancy.models import Membership, Organization
    from cxprogram.tenancy.permissions import Role
    from feedback import services
    from feedback.models import Batch, Client, Contact, Project, SurveyRequest

    run_id = timezone.now().strftime("%Y%m%d%H%M%S")
    organization = Organization.objects.create(name="Bench Survey Co", slug=f"bench-survey-{run_id}")
    activate(organization)
    user = User.objects.create(email=f"pm-{run_id}@bench-survey.example")
    pm = Membership.objects.create(organization=organization, user=user, roles=[Role.PROJECT_MANAGER])
    client = Client.objects.create(organization=organization, name="Load Client")
    project = Project.objects.create(
        organization=organization, code="LOAD-1", name="Load", client=client, project_manager=pm
    )
    contacts = Contact.objects.bulk_create(
        [
            Contact(organization=organization, client=client, name=f"Contact {i}", email=f"c{i}@load.example")
            for i in range(count)
        ],
        batch_size=2000,
    )
    batch = services.create_batch(
        organization=organization, actor=None, sender=pm, projects=[project], contacts=contacts[:1]
    )
    Batch.objects.filter(pk=batch.pk).update(state=Batch.State.SENT)
    now = timezone.now()
    nonces = [tokens.new_nonce() for _ in contacts]
    SurveyRequest.objects.bulk_create(
        [
            SurveyRequest(
                organization=organization,
                batch=batch,
                contact=c,
                project=project,
                state=SurveyRequest.State.SENT,
                nonce=n,
                sent_at=now,
                expires_at=now + timedelta(days=30),
                token_hash=tokens.hash_token(tokens.make_token(services.TOKEN_PURPOSE, n)),
            )
            for c, n in zip(contacts, nonces, strict=True)
        ],
        batch_size=2000,
        ignore_conflicts=True,
    )
    return organization, [f"/s/{tokens.make_token(services.TOKEN_PURPOSE, n)}/" for n in nonces]


def load(port: int, paths: list[str], concurrency: int, seconds: float, form: dict, server_group: int = 0) -> dict:
    """The load generator's figures, with `cpu`: milliseconds of CPU per submit (a GET + POST pair) of the
    web server (the process group `server_group`), PostgreSQL, Redis and the load generator itself."""
    started = cpu_seconds_by_part(server_group)
    generator = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = _generate_load(port, paths, concurrency, seconds, form)
    ended, generated = cpu_seconds_by_part(server_group), resource.getrusage(resource.RUSAGE_CHILDREN)
    used = {part: ended[part] - started[part] for part in ended}
    used["load generator"] = generated.ru_utime + generated.ru_stime - generator.ru_utime - generator.ru_stime
    result["cpu"] = {part: seconds * 1000 / max(result["submits"], 1) for part, seconds in used.items()}
    return result


def _generate_load(port: int, paths: list[str], concurrency: int, seconds: float, form: dict) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        paths_file, out = Path(tmp, "paths.txt"), Path(tmp, "out.json")
        paths_file.write_text("\n".join(paths))
        subprocess.run(
            [
                sys.executable,
                "-m",
                "benchmarks.loadgen",
                "--port",
                str(port),
                "--paths",
                str(paths_file),
                "--concurrency",
                str(concurrency),
                "--duration",
                str(seconds),
                "--form",
                json.dumps(form),
                "--out",
                str(out),
            ],
            check=True,
            timeout=seconds + 120,
        )
        return json.loads(out.read_text())


def run(quick: bool = False) -> list[Result]:
    from feedback.models import Response

    seconds = 5 if quick else 15
    organization, links = make_links(4000 if quick else 30000)
    port = free_port()
    env = process_env(BENCHMARK_ENDPOINTS="true", SURVEY_RATE_LIMIT_PER_IP=10**9)
    # What a plain ORM view that reads a row and writes one reaches here (no goal), beside the survey's share.
    reference = f"{READ_AND_INSERT}?org={organization.pk}"
    results, used, accepted = [], 0, 0
    with gunicorn(env, port, workers=2) as server:
        group = server.popen.pid  # gunicorn starts its own session: its workers share its process group
        for concurrency in LEVELS:
            floor = load(port, [FLOOR] * 10**6, concurrency, seconds, {"answer": "9"}, group)
            read_and_insert = load(port, [reference] * 10**6, concurrency, seconds, {"answer": "9"}, group)
            survey = load(port, links[used:], concurrency, seconds, ANSWERS, group)
            used += survey["submits"] + survey["errors"]
            accepted += survey["accepted"]
            ratio = survey["rps"] / floor["rps"] if floor["rps"] else 0.0
            name = f"c={concurrency}"
            results += [
                Result("survey_load", f"floor requests/s, {name}", floor["rps"], "req/s"),
                Result(
                    "survey_load",
                    f"one read + one insert share of floor, {name}",
                    read_and_insert["rps"] / floor["rps"] * 100 if floor["rps"] else 0.0,
                    "%",
                ),
                Result("survey_load", f"survey submits/s, {name}", survey["rps"], "req/s"),
                Result("survey_load", f"survey share of floor, {name}", ratio * 100, "%", ">= 60", ratio >= 0.6),
                Result("survey_load", f"survey p50, {name}", survey["p50"], "ms"),
                Result("survey_load", f"survey p95, {name}", survey["p95"], "ms"),
                Result(
                    "survey_load",
                    f"survey p99, {name}",
                    survey["p99"],
                    "ms",
                    "< 250" if concurrency == 50 else "",
                    survey["p99"] < 250 if concurrency == 50 else None,
                ),
                Result("survey_load", f"floor p99, {name}", floor["p99"], "ms"),
                Result("survey_load", f"survey errors, {name}", survey["errors"], "", "0", survey["errors"] == 0),
            ]
            if concurrency == 50:  # where the machine's CPU goes, per submit (the floor's: per GET + POST)
                results += [
                    Result("survey_load", f"{path} CPU per submit, {part}", ms, "ms")
                    for path, figures in (("floor", floor), ("survey", survey))
                    for part, ms in figures["cpu"].items()
                    if ms >= 0.005
                ]
    stored = Response.objects.filter(organization=organization).count()
    results.append(
        Result(
            "survey_load", "stored responses = accepted submits", stored, "rows", f"= {accepted}", stored == accepted
        )
    )
    return results
