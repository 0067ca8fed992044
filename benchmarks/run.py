"""Run the benchmarks: `make bench` (or `python -m benchmarks.run [--only NAME ...] [--quick]`).

Uses the local PostgreSQL and Redis (a database of its own, `cx_bench`, created and migrated here),
starts what each benchmark needs (Celery workers, gunicorn, an SMTP server) and stops it, then prints
one table (figure, value, goal, met) and writes it as JSON to benchmarks/results/latest.json.
"""

import argparse
import importlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import BENCH_DB, Result, process_env

BENCHMARKS = [
    "survey_load",
    "survey_cost",
    "feedback_send",
    "metrics_dashboard",
    "tenant_scale",
    "feedback_import",
    "revenue_import",
    "charter_pdf",
]
RESULTS = Path(__file__).resolve().parent / "results"


def prepare_database() -> None:
    import psycopg

    name = BENCH_DB.rsplit("/", 1)[1]
    admin = BENCH_DB.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def setup_django(migrate: bool = True) -> None:
    os.environ.update(process_env())  # the bench database and production-like settings, in-process too
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cxprogram.settings")
    import django

    django.setup()
    if migrate:
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)  # production settings serve the manifest


def run_one(name: str, quick: bool) -> list[Result]:
    module = importlib.import_module(f"benchmarks.{name}")
    try:
        return module.run(quick=quick)
    except Exception as error:  # one failing benchmark must not hide the others' figures
        return [Result(name, f"FAILED: {type(error).__name__}: {error}"[:52], float("nan"), "", "", False)]


def run_in_child(name: str, quick: bool) -> list[Result]:
    """Each benchmark in a fresh process, so that none pays for what another left behind: after the
    sending benchmark had held 100,000 contacts, every page of the tenant-scale one took ~15 ms longer."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp, "results.json")
        args = [sys.executable, "-m", "benchmarks.run", "--child", name, "--out", str(out)]
        subprocess.run(args + (["--quick"] if quick else []), check=False, cwd=Path(__file__).resolve().parent.parent)
        if not out.exists():
            return [Result(name, "FAILED: its process died", float("nan"), "", "", False)]
        return [Result(**row) for row in json.loads(out.read_text())]


def print_table(results: list[Result]) -> None:
    header = f"{'benchmark':18} {'figure':52} {'value':>12} {'unit':8} {'goal':22} met"
    print("\n" + header + "\n" + "-" * len(header))
    for r in results:
        met = "" if r.met is None else ("yes" if r.met else "NO")
        print(f"{r.benchmark:18} {r.figure:52} {r.value:12.2f} {r.unit:8} {r.goal:22} {met}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", nargs="*", choices=BENCHMARKS, help="run only these benchmarks")
    parser.add_argument("--quick", action="store_true", help="smaller data and shorter runs (a smoke test)")
    parser.add_argument("--child", choices=BENCHMARKS, help=argparse.SUPPRESS)  # one benchmark, in this process
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        setup_django(migrate=False)
        Path(args.out).write_text(json.dumps([r.row() for r in run_one(args.child, args.quick)]))
        return 0
    prepare_database()
    setup_django()
    results: list[Result] = []
    for name in args.only or BENCHMARKS:
        started = time.monotonic()
        print(f"== {name}", flush=True)
        results.extend(run_in_child(name, args.quick))
        print(f"   {time.monotonic() - started:.0f} s", flush=True)
    print_table(results)
    RESULTS.mkdir(exist_ok=True)
    payload = {
        "ran_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "quick": args.quick,
        "results": [r.row() for r in results],
    }
    (RESULTS / "latest.json").write_text(json.dumps(payload, indent=2))
    print(f"\nwritten to {RESULTS / 'latest.json'}")
    return 0 if all(r.met is not False for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
