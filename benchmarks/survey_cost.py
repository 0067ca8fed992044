"""Where the survey submit path's time goes, in-process (no HTTP, no load generator): CPU per GET + POST
pair through Django's test client with the production settings, for the bare floor view, for the pair
of views that reads a row and inserts one through the ORM in the request's transaction (what a plain
write path in this stack pays), and for the survey. It explains the survey_load figures (this process's
CPU only: PostgreSQL's and Redis's are not in it).

    python -m benchmarks.run --only survey_cost
"""

import time

from benchmarks.common import Result
from benchmarks.loadgen import hidden_fields
from benchmarks.survey_load import ANSWERS, FLOOR, READ_AND_INSERT, make_links


def mount() -> None:
    """The benchmark views (mounted by the BENCHMARK_ENDPOINTS setting for gunicorn), in this process."""
    from django.urls import clear_url_caches, path

    import cxprogram.urls
    from cxprogram.core.views import benchmark_floor, benchmark_read_and_insert

    cxprogram.urls.urlpatterns[:0] = [
        path(FLOOR[1:], benchmark_floor),
        path(READ_AND_INSERT[1:], benchmark_read_and_insert),
    ]
    clear_url_caches()


def cpu_per_pair(paths: list[str], form: dict) -> float:
    """Milliseconds of this process's CPU per GET + POST pair (a fresh client each time, as a new visitor)."""
    from django.test import Client

    client = Client()
    started = time.process_time()
    for path in paths:
        client.cookies.clear()
        fields = hidden_fields(client.get(path).content.decode())
        status = client.post(path, {**fields, **form}).status_code
        if status not in (200, 302):
            raise RuntimeError(f"{path} answered {status}")
    return (time.process_time() - started) / len(paths) * 1000


def run(quick: bool = False) -> list[Result]:
    from feedback import public_views

    pairs = 200 if quick else 1000
    public_views.RATE_LIMITS["ip"] = 10**9  # every pair comes from one address, as in survey_load
    organization, links = make_links(2 * pairs + 50)
    read_and_insert = f"{READ_AND_INSERT}?org={organization.pk}"
    mount()
    cpu_per_pair(links[:50], ANSWERS)  # warm: templates, kept connection, plans
    cpu_per_pair([FLOOR] * 50 + [read_and_insert] * 50, {"answer": "9"})
    floor = cpu_per_pair([FLOOR] * pairs, {"answer": "9"})
    reference = cpu_per_pair([read_and_insert] * pairs, {"answer": "9"})
    survey = cpu_per_pair(links[50 : 50 + pairs], ANSWERS)
    return [
        Result("survey_cost", "floor CPU per GET + POST", floor, "ms"),
        Result("survey_cost", "one read + one insert CPU per GET + POST", reference, "ms"),
        Result("survey_cost", "survey CPU per GET + POST", survey, "ms"),
        Result("survey_cost", "one read + one insert share of floor", floor / reference * 100, "%"),
        Result("survey_cost", "survey share of floor (in-process)", floor / survey * 100, "%"),
    ]
