"""A private PostgreSQL cluster for fault tests: initdb into its own directory, its own port, started,
stopped and restarted by the test (the machine's PostgreSQL on 5432 is never touched). PostgreSQL will not
run as root, so under root the cluster belongs to the postgres OS user. Also the app server (gunicorn with
production settings) that the test runs against it, and the survey requests it answers."""

import glob
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
import requests

from tests.faults.redis_server import free_port

ROOT = Path(__file__).resolve().parents[2]


def _bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found[-1] if found else name


class PrivatePostgres:
    def __init__(self):
        self.directory = Path(tempfile.mkdtemp(prefix="cx-pgfault-"))
        self.data, self.log = self.directory / "data", self.directory / "postgres.log"
        self.port = free_port()
        if os.geteuid() == 0:
            shutil.chown(self.directory, "postgres")

    def _run(self, *args: str) -> None:
        command = ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else list(args)
        subprocess.run(command, check=True, capture_output=True, timeout=60)

    def url(self, database: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def init(self):
        self._run(_bin("initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync")
        return self

    def start(self):
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1"
        self._run(_bin("pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "-t", "30", "start")
        return self

    def stop(self, mode: str = "fast"):
        self._run(_bin("pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "-t", "30", "stop")

    def load_schema(self, database: str, source_url: str) -> None:
        """The tables, row-level security and triggers of an already migrated database, copied in a second
        (`migrate` takes half a minute)."""
        dump = subprocess.run(
            [_bin("pg_dump"), "--schema-only", "--no-owner", "--no-privileges", source_url],
            check=True,
            capture_output=True,
            timeout=60,
        ).stdout
        subprocess.run(
            [_bin("psql"), "-q", "-v", "ON_ERROR_STOP=1", "-d", self.url(database)],
            input=dump,
            check=True,
            capture_output=True,
            timeout=60,
        )

    def query(self, database: str, sql: str, params=()) -> list[tuple]:
        with psycopg.connect(self.url(database), autocommit=True) as conn:
            cursor = conn.execute(sql, params)
            return cursor.fetchall() if cursor.description else []

    def cleanup(self):
        if (self.data / "postmaster.pid").exists():
            try:
                self.stop("immediate")
            except subprocess.SubprocessError:
                pid = int((self.data / "postmaster.pid").read_text().split()[0])
                os.kill(pid, signal.SIGKILL)
        shutil.rmtree(self.directory, ignore_errors=True)


def manage(env: dict, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True, text=True, timeout=180
    )
    return done.stdout


SEED = """
import json
from tests.faults.postgres_server import seed_survey_requests
print(json.dumps(seed_survey_requests({count})))
"""


def seed_survey_requests(count: int) -> list[tuple[int, str]]:
    """Run inside `manage.py shell`: an organization, a sent batch and `count` open survey requests;
    returns (request id, survey path) pairs."""
    from datetime import timedelta

    from django.utils import timezone

    from cxprogram.core import tokens
    from feedback import services
    from feedback.models import Batch, Contact, SurveyRequest
    from tests.factories import make_org
    from tests.feedback.factories import make_account, make_pm, make_template_version

    organization = make_org("Fault Survey Co", slug="fault-survey")
    pm = make_pm(organization, email="pm@fault-survey.example")
    client, _, project = make_account(organization, pm, contacts=0)
    batch = Batch.objects.create(
        organization=organization,
        name="Restart batch",
        template_version=make_template_version(organization),  # a score and a reason, no rating
        sender=pm,
        reply_to=pm.user.email,
        state=Batch.State.SENT,
    )
    contacts = Contact.objects.bulk_create(
        [
            Contact(organization=organization, client=client, name=f"Contact {i}", email=f"c{i}@fault-client.example")
            for i in range(count)
        ]
    )
    now = timezone.now()
    nonces = [tokens.new_nonce() for _ in contacts]
    requests_ = SurveyRequest.objects.bulk_create(
        [
            SurveyRequest(
                organization=organization,
                batch=batch,
                contact=contact,
                project=project,
                state=SurveyRequest.State.SENT,
                nonce=nonce,
                sent_at=now,
                expires_at=now + timedelta(days=30),
                token_hash=tokens.hash_token(tokens.make_token(services.TOKEN_PURPOSE, nonce)),
            )
            for contact, nonce in zip(contacts, nonces, strict=True)
        ]
    )
    return [
        (r.pk, f"/s/{tokens.make_token(services.TOKEN_PURPOSE, n)}/") for r, n in zip(requests_, nonces, strict=True)
    ]


def seed(env: dict, count: int) -> list[tuple[int, str]]:
    return json.loads(manage(env, "shell", "-c", SEED.format(count=count)).strip().splitlines()[-1])


class WebServer:
    """gunicorn in its own session, logging to a file; stopped with its workers."""

    def __init__(self, env: dict, log: Path, workers: int = 2, threads: int = 4):
        self.env, self.log, self.workers, self.threads = env, log, workers, threads
        self.port, self.popen = free_port(), None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self):
        with open(self.log, "ab") as log:
            self.popen = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "cxprogram.wsgi:application", "-b", f"127.0.0.1:{self.port}"]
                + ["-w", str(self.workers), "--worker-class", "gthread", "--threads", str(self.threads)]
                + ["--graceful-timeout", "1", "--log-level", "warning"],
                cwd=ROOT,
                env=self.env,
                start_new_session=True,
                stdout=log,
                stderr=log,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and self.popen.poll() is None:
            try:
                if requests.get(f"{self.base}/healthz", timeout=1).status_code == 200:
                    return self
            except requests.RequestException:  # not listening yet, or still loading the app
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"gunicorn did not start: {self.log.read_text()[-2000:]}")

    def stop(self):
        if self.popen and self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait()
