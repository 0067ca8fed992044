"""Dashboards at scale: the CX CoE dashboard of an organization with a million responses.

The data comes from benchmarks/metrics_generate.py (made once, reused). First what the periodic task does
(timed: its worst case, every month recomputed): the monthly rollups, then the default dashboard's whole-table
figures (accounts, revenue, behaviors) once. Then the dashboard is loaded repeatedly through the Django test
client with production settings, and timed (median, p95); one load's SQL is captured and run again bare on
the same connection, in turns with the page loads (the floor: the page can never be faster than its
queries), and the ratio reported. The
same page for a small organization shows that the number of queries does not depend on the data size. For
scale: a filtered view's first load (its whole-table figures computed on the spot), and the page with the
rollups switched off (everything read live from a million rows).

Goals: median under 300 ms, at most 3× the bare SQL, the same query count for large and small."""

import time

from benchmarks.common import Result, median, percentile

NAME = "metrics_dashboard"


def _timed_loads(client, url: str, count: int) -> list[float]:
    times = []
    for _ in range(count):
        started = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise RuntimeError(f"{url} answered {response.status_code}")
    return times


def _captured(client, url: str) -> list[str]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as context:
        client.get(url)
    return [q["sql"] for q in context.captured_queries]


def _bare(statements: list[str], count: int) -> list[float]:
    """The page's own SQL, run again on the same connection in one transaction (as the request does)."""
    from django.db import connection, transaction

    times = []
    for _ in range(count):
        started = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)
                if cursor.description is not None:
                    cursor.fetchall()
        times.append((time.perf_counter() - started) * 1000)
    return times


def _viewer(organizations):
    from cxprogram.accounts.models import User
    from cxprogram.tenancy.models import Membership
    from cxprogram.tenancy.permissions import Role

    user, _ = User.objects.get_or_create(email="coe@bench-metrics.example", defaults={"full_name": "Bench CoE"})
    for organization in organizations:
        Membership.objects.get_or_create(
            organization=organization, user=user, defaults={"roles": [Role.CX_COE], "title": "CX CoE"}
        )
    return user


def run(quick: bool = False) -> list[Result]:
    from django.test import Client

    from benchmarks.metrics_generate import generate
    from cxprogram.tenancy.context import use_organization
    from cxprogram.tenancy.models import Organization, Unit
    from feedback.models import Response
    from metrics import services
    from metrics.dashboards import warm
    from metrics.models import MetricsSettings

    slugs = generate(quick=quick, log=print)
    large = Organization.objects.get(slug=slugs["large"])
    small = Organization.objects.get(slug=slugs["small"])
    user = _viewer([large, small])
    with use_organization(large):
        responses = Response.objects.for_org(large).count()
    started = time.perf_counter()
    with use_organization(large):
        services.refresh_rollups(large)
    refresh_seconds = time.perf_counter() - started
    with use_organization(large):
        warm(large)
    warm_seconds = time.perf_counter() - started - refresh_seconds
    with use_organization(small):
        services.refresh_rollups(small)
        warm(small)
    print(
        f"   {responses:,} responses; rollups in {refresh_seconds:.1f} s, figures in {warm_seconds:.1f} s", flush=True
    )

    client = Client()
    client.force_login(user)
    url, small_url = f"/o/{large.slug}/metrics/", f"/o/{small.slug}/metrics/"
    loads = 5 if quick else 20
    _timed_loads(client, url, 2)  # warm up: templates, connections
    statements = _captured(client, url)
    page, bare = [], []
    for _ in range(loads):  # in turns, so the page and its bare SQL meet the same caches and machine load
        page += _timed_loads(client, url, 1)
        bare += _bare(statements, 1)
    small_statements = _captured(client, small_url)
    page_median, bare_median = median(page), median(bare)
    ratio = page_median / bare_median

    unit = Unit.objects.for_org(large).filter(parent__isnull=True).order_by("pk").first()
    filtered_first = _timed_loads(client, f"{url}?unit={unit.pk}", 1)[0]
    settings = MetricsSettings.objects.get(organization=large)
    MetricsSettings.objects.filter(pk=settings.pk).update(rollup_through=None, rollups_refreshed_at=None)
    try:
        live = _timed_loads(client, url, 1 if quick else 2)
    finally:
        MetricsSettings.objects.filter(pk=settings.pk).update(
            rollup_through=settings.rollup_through, rollups_refreshed_at=settings.rollups_refreshed_at
        )

    label = f"{responses / 1e6:.1f}M responses" if responses >= 1e6 else f"{responses:,} responses"
    return [
        Result(NAME, f"CoE dashboard median, {label}", page_median, "ms", "< 300 ms", page_median < 300),
        Result(NAME, "CoE dashboard p95", percentile(page, 95), "ms"),
        Result(NAME, "same SQL run bare (median)", bare_median, "ms"),
        Result(NAME, "dashboard / bare SQL", ratio, "x", "<= 3x", ratio <= 3),
        Result(
            NAME,
            f"queries, large org (small org: {len(small_statements)})",
            len(statements),
            "queries",
            "same as small org",
            len(statements) == len(small_statements),
        ),
        Result(NAME, "periodic task: rollups, all months", refresh_seconds, "s"),
        Result(NAME, "periodic task: default dashboard's figures", warm_seconds, "s"),
        Result(NAME, "unit-filtered dashboard, first load", filtered_first, "ms"),
        Result(NAME, "dashboard with rollups off (all live), median", median(live), "ms"),
    ]
