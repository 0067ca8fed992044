"""A small tenant must not pay for a large one: the main pages of a small organization (20 clients, ~2,000
responses), timed while one organization of the same database holds a million responses, against the same
pages of the same small organization in a database without the large one.

The data comes from benchmarks/metrics_generate.py (its sizes() and SMALL_SIZE are the one place for them):
in the bench database, the large organization and the small ones (made once, reused; about 13 minutes at full
size, ~50,000 responses in quick mode); in `<bench database>_small`, the same small organizations alone (each
is seeded by its slug, so their data are the same). The second database is measured by this module run as a
child process (`--baseline`), with the same code. Each page is loaded through the Django test client with
production settings, logged in as a CX CoE member of the small organization: two rounds of warm-up, then
rounds of timed loads of every page in turn (median, p95 per page), and one load's queries counted.

Goals, per page: median under 300 ms; at most 1.5× the same page in the database without the large tenant;
the same number of queries in both."""

import argparse
import json
import os
import subprocess
import sys
import time

from benchmarks.common import BENCH_DB, ROOT, Result, median, percentile

NAME = "tenant_scale"
PAGES = {
    "home": "/o/{slug}/",
    "feedback responses": "/o/{slug}/feedback/responses/",
    "cases": "/o/{slug}/feedback/cases/",
    "clients": "/o/{slug}/feedback/clients/",
    "CoE dashboard": "/o/{slug}/metrics/",
    "initiatives backlog": "/o/{slug}/initiatives/",
    "charters": "/o/{slug}/charters/",
}
LOADS, QUICK_LOADS = 20, 8
GOAL_MS, GOAL_RATIO = 300, 1.5
BASELINE_DB = BENCH_DB + "_small"


def _small_slug() -> str:
    from benchmarks.metrics_generate import SMALL_PREFIX

    return f"{SMALL_PREFIX}2"  # not small-1: metrics_dashboard rolls that one up, which changes its queries


def _small_count() -> int:
    from benchmarks.metrics_generate import SMALL_PREFIX
    from cxprogram.tenancy.models import Organization

    return Organization.objects.filter(slug__startswith=SMALL_PREFIX).count()


def measure(slug: str, loads: int) -> dict:
    """{page: {"times": [ms, ...], "queries": n}} for a CX CoE member of the organization."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from cxprogram.accounts.models import User
    from cxprogram.tenancy.models import Membership, Organization
    from cxprogram.tenancy.permissions import Role
    from metrics.models import MetricsSettings

    organization = Organization.objects.get(slug=slug)
    # Both databases must hold the small organization in the same state: never rolled up (live figures).
    MetricsSettings.objects.filter(organization=organization).update(rollup_through=None, rollups_refreshed_at=None)
    user, _ = User.objects.get_or_create(email="tenant-scale@bench.example", defaults={"full_name": "Bench Small CoE"})
    Membership.objects.get_or_create(
        organization=organization, user=user, defaults={"roles": [Role.CX_COE], "title": "CX CoE"}
    )
    client = Client()
    client.force_login(user)
    urls = {page: pattern.format(slug=slug) for page, pattern in PAGES.items()}
    times: dict[str, list[float]] = {page: [] for page in urls}
    for round_ in range(2 + loads):  # round-robin, so that a moment of load on the machine hits every page alike
        for page, url in urls.items():
            started = time.perf_counter()
            _get(client, url)
            if round_ >= 2:  # the first two rounds warm up templates and connections
                times[page].append((time.perf_counter() - started) * 1000)
    pages = {}
    for page, url in urls.items():
        with CaptureQueriesContext(connection) as queries:
            _get(client, url)
        pages[page] = {"times": times[page], "queries": len(queries.captured_queries)}
    return pages


def _get(client, url: str) -> None:
    response = client.get(url)
    if response.status_code != 200:
        raise RuntimeError(f"{url} answered {response.status_code}")


def _baseline(quick: bool, small_orgs: int, loads: int) -> dict:
    """The same pages in a database without the large organization: this module in a child process."""
    args = [sys.executable, "-m", "benchmarks.tenant_scale", "--baseline", f"--small-orgs={small_orgs}"]
    args += [f"--loads={loads}"] + (["--quick"] if quick else [])
    env = {**os.environ, "BENCH_DATABASE_URL": BASELINE_DB}
    done = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=3600)  # noqa: S603
    if done.returncode:
        raise RuntimeError(f"baseline run failed: {done.stderr.strip().splitlines()[-1:]}")
    *log, figures = done.stdout.strip().splitlines()
    print("\n".join(log), flush=True)
    return json.loads(figures)


def run(quick: bool = False) -> list[Result]:
    from benchmarks.metrics_generate import LARGE_SLUG, generate
    from cxprogram.tenancy.context import use_organization
    from cxprogram.tenancy.models import Organization
    from feedback.models import Response

    generate(quick=quick, log=print)  # reuses the data if the bench database holds them
    large = Organization.objects.get(slug=LARGE_SLUG)
    with use_organization(large):
        responses = Response.objects.for_org(large).count()
    loads = QUICK_LOADS if quick else LOADS
    present = measure(_small_slug(), loads)
    alone = _baseline(quick, _small_count(), loads)

    label = f"{responses / 1e6:.2f}M" if responses >= 1e6 else f"{responses:,}"
    results = [Result(NAME, f"responses of the large tenant ({label})", responses, "responses")]
    for page, figures in present.items():
        page_median, alone_median = median(figures["times"]), median(alone[page]["times"])
        ratio = page_median / alone_median
        queries, alone_queries = figures["queries"], alone[page]["queries"]
        results += [
            Result(NAME, f"{page}: median", page_median, "ms", f"< {GOAL_MS} ms", page_median < GOAL_MS),
            Result(NAME, f"{page}: p95", percentile(figures["times"], 95), "ms"),
            Result(
                NAME,
                f"{page}: / without large tenant ({alone_median:.0f} ms)",
                ratio,
                "x",
                f"<= {GOAL_RATIO}x",
                ratio <= GOAL_RATIO,
            ),  # fmt: skip
            Result(
                NAME,
                f"{page}: queries (without large: {alone_queries})",
                queries,
                "queries",
                "same",
                queries == alone_queries,
            ),  # fmt: skip
        ]
    return results


def main(argv=None) -> None:
    from benchmarks.run import prepare_database, print_table, setup_django

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--baseline", action="store_true", help="measure this database's small tenant, as JSON")
    parser.add_argument("--small-orgs", type=int, default=0, help="with --baseline: how many small organizations")
    parser.add_argument("--loads", type=int, default=LOADS)
    args = parser.parse_args(argv)
    prepare_database()
    setup_django()
    if not args.baseline:
        print_table(run(quick=args.quick))
        return
    from benchmarks.metrics_generate import delete_generated, generate

    if _small_count() not in (0, args.small_orgs):  # made for another size of the bench database
        delete_generated()
    generate(quick=args.quick, large=False, small_orgs=args.small_orgs)
    print(json.dumps(measure(_small_slug(), args.loads)))


if __name__ == "__main__":
    main()
