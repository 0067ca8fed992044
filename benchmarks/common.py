"""What every benchmark shares: the result row, percentiles, and the real parts it starts
(a Celery worker, gunicorn with production settings, an SMTP server that counts mails)."""

import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import tracemalloc
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_DB = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/cx_bench")
BENCH_REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/9")
BENCH_SECRET = "benchmark-secret-key-" + "b" * 40


@dataclass
class Result:
    benchmark: str
    figure: str
    value: float
    unit: str
    goal: str = ""
    met: bool | None = None

    def row(self) -> dict:
        return asdict(self)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def median(values: list[float]) -> float:
    return statistics.median(values)


class Measured:
    """Seconds and peak Python memory (tracemalloc, which slows the block down) of a `with` block:
    `with Measured() as m: ...` then m.seconds and m.peak_mib; m.elapsed() reads the clock inside the block.
    Measured(memory=False) times the block alone (m.peak_mib is nan)."""

    def __init__(self, memory: bool = True):
        self.memory = memory
        self.peak_mib = float("nan")

    def __enter__(self):
        if self.memory:
            tracemalloc.start()
        self.started = time.monotonic()
        return self

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def __exit__(self, *exc):
        self.seconds = self.elapsed()
        if self.memory:
            self.peak_mib = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()


def cpu_seconds_by_part(server_group: int) -> dict[str, float]:
    """CPU seconds used so far by each part on this machine (Linux's /proc): the web server under test (its
    process group), PostgreSQL and Redis (all their processes)."""
    totals = {"web server": 0.0, "PostgreSQL": 0.0, "Redis": 0.0}
    tick = os.sysconf("SC_CLK_TCK")
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:  # the process ended
            continue
        name, fields = stat[stat.index("(") + 1 : stat.rindex(")")], stat[stat.rindex(")") + 2 :].split()
        group, used = int(fields[2]), (int(fields[11]) + int(fields[12])) / tick
        if group == server_group:
            totals["web server"] += used
        elif name == "postgres":
            totals["PostgreSQL"] += used
        elif name.startswith("redis-server"):
            totals["Redis"] += used
    return totals


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def process_env(**extra) -> dict:
    """The environment of the processes a benchmark starts: production-like settings on the bench database."""
    env = {
        **os.environ,
        "DATABASE_URL": BENCH_DB,
        "REDIS_URL": BENCH_REDIS,
        "SECRET_KEY": BENCH_SECRET,
        "DEBUG": "false",
        "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
        "SITE_URL": "http://127.0.0.1:8000",
        "SECURE_SSL_REDIRECT": "false",
        "CELERY_TASK_ALWAYS_EAGER": "false",
    }
    env.update({k: str(v) for k, v in extra.items()})
    return env


class CountingSmtpServer:
    """aiosmtpd in a thread: accepts every mail and counts them (and their recipients)."""

    def __init__(self):
        from aiosmtpd.controller import Controller

        self.count = 0
        self.recipients: dict[str, int] = {}
        self._lock = threading.Lock()
        outer = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                with outer._lock:
                    outer.count += 1
                    for rcpt in envelope.rcpt_tos:
                        outer.recipients[rcpt] = outer.recipients.get(rcpt, 0) + 1
                return "250 OK"

        self.controller = Controller(Handler(), hostname="127.0.0.1", port=free_port())

    @property
    def port(self) -> int:
        return self.controller.port

    def __enter__(self):
        self.controller.start()
        return self

    def __exit__(self, *exc):
        self.controller.stop()


class Process:
    """A child process in its own session, stopped with its children."""

    def __init__(self, args: list[str], env: dict, ready=None, timeout: float = 60):
        self.args, self.env, self.ready, self.timeout = args, env, ready, timeout
        self.popen = None

    def __enter__(self):
        self.popen = subprocess.Popen(
            self.args,
            env=self.env,
            cwd=ROOT,
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + self.timeout
        while self.ready and not self.ready():
            if self.popen.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"{self.args[:4]} did not start")
            time.sleep(0.2)
        return self

    def stop(self):
        if self.popen and self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait()

    def __exit__(self, *exc):
        self.stop()


def celery_worker(env: dict, concurrency: int = 2, queue: str = "celery") -> Process:
    from cxprogram.celery import app

    name = f"bench-{os.getpid()}-{time.monotonic_ns()}@localhost"
    return Process(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "cxprogram",
            "worker",
            "--pool=prefork",
            f"--concurrency={concurrency}",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-Q",
            queue,
            "-n",
            name,
            "-l",
            "warning",
        ],
        env={**env, "CELERY_TASK_DEFAULT_QUEUE": queue},
        ready=lambda: bool(app.control.ping(destination=[name], timeout=0.5)),
    )


def gunicorn(env: dict, port: int, workers: int = 2) -> Process:
    def answers() -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r:
                return r.status == 200
        except OSError:
            return False

    return Process(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "cxprogram.wsgi:application",
            "-b",
            f"127.0.0.1:{port}",
            "-w",
            str(workers),
            "--worker-class",
            "gthread",
            "--threads",
            "4",
            "--log-level",
            "warning",
        ],
        env=env,
        ready=answers,
    )
