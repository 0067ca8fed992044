"""PostgreSQL restarts while clients submit survey answers to the real app server (gunicorn, production
settings, kept connections). Every submit is either accepted (the redirect to the thank-you page) and
stored once with its score, or a friendly 503 that keeps the answers for the retry; no 500. Once
PostgreSQL is back every submit is accepted again, and the retry page's button stores what it kept.

The cluster is a private one (tests/faults/postgres_server.py): the machine's PostgreSQL is not touched."""

import html
import os
import queue
import re
import threading
import time
from dataclasses import dataclass

import pytest
import requests

from tests.faults.postgres_server import ROOT, PrivatePostgres, WebServer, manage, seed
from tests.fixtures.worker import database_url

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

LINKS = 600
DATABASE = "cx_fault"
HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@dataclass
class Submit:
    request_id: int
    path: str
    answers: dict
    started: float
    status: int = 0
    location: str = ""
    retry_after: str = ""
    page: str = ""
    error: str = ""


@pytest.fixture
def private_postgres():
    server = PrivatePostgres()
    try:
        server.init().start()
        server.query("postgres", f"CREATE DATABASE {DATABASE}")
        yield server
    finally:
        server.cleanup()


@pytest.fixture
def app_env(private_postgres):
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "cxprogram.settings",
        "DATABASE_URL": private_postgres.url(DATABASE),
        # No Redis: the server's rate-limit counters stay in its processes, out of the other tests' way.
        "REDIS_URL": "",
        "SECRET_KEY": "fault-test-secret-key-" + "p" * 40,
        "DEBUG": "false",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SITE_URL": "http://127.0.0.1:8000",
        "SECURE_SSL_REDIRECT": "false",
        "SURVEY_RATE_LIMIT_PER_IP": str(10**9),
        # Kept connections, as a production deployment would: the restart leaves them broken behind.
        "CONN_MAX_AGE": "60",
    }


@pytest.fixture
def links(app_env, private_postgres, db):
    # The session's test database went through every migration: its schema is the one `migrate` makes.
    private_postgres.load_schema(DATABASE, database_url())
    if not (ROOT / "staticfiles" / "staticfiles.json").exists():  # production settings serve the manifest
        manage(app_env, "collectstatic", "--noinput")
    return seed(app_env, LINKS)


@pytest.fixture
def web(app_env, private_postgres, links):
    server = WebServer(app_env, private_postgres.directory / "gunicorn.log")
    try:
        yield server.start()
    finally:
        server.stop()


def post(web, path: str, fields: dict, csrf: tuple[str, str]) -> requests.Response:
    cookie, token = csrf
    return requests.post(
        web.base + path,
        data={**fields, "csrfmiddlewaretoken": token},
        headers={"Cookie": f"csrftoken={cookie}"},
        allow_redirects=False,
        timeout=20,
    )


class Clients:
    """Clients answering their surveys one after another, each link once: score 7 to 10 (so no follow-up
    case), a reason of their own. Someone shown the retry page reads it a moment before the next one comes."""

    def __init__(self, web, links, csrf, count: int = 3):
        self.web, self.csrf, self.count = web, csrf, count
        self.links = queue.Queue()
        for link in links:
            self.links.put(link)
        self.submits: list[Submit] = []
        self.stop_event, self.threads = threading.Event(), []

    def start(self):
        self.stop_event.clear()
        self.threads = [threading.Thread(target=self._run, daemon=True) for _ in range(self.count)]
        for thread in self.threads:
            thread.start()

    def stop(self):
        self.stop_event.set()
        for thread in self.threads:
            thread.join(30)

    def wait_for(self, condition, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while not condition(self.submits) and time.monotonic() < deadline:
            time.sleep(0.05)

    def _run(self):
        while not self.stop_event.is_set():
            try:
                request_id, path = self.links.get_nowait()
            except queue.Empty:
                return
            answers = {"nps": str(7 + request_id % 4), "reason": f"Answer for request {request_id} & co"}
            submit = Submit(request_id, path, answers, time.monotonic())
            try:
                response = post(self.web, path, answers, self.csrf)
                submit.status, submit.page = response.status_code, response.text
                submit.location = response.headers.get("Location", "")
                submit.retry_after = response.headers.get("Retry-After", "")
            except requests.RequestException as error:
                submit.error = repr(error)
            self.submits.append(submit)
            time.sleep(0.2 if submit.status == 503 else 0.01)


def retry_form(submit: Submit) -> tuple[str, dict]:
    form = re.search(r'<form method="post" action="([^"]+)">(.*?)</form>', submit.page, re.S)
    assert form, submit.page[:2000]
    return form.group(1), {name: html.unescape(value) for name, value in HIDDEN.findall(form.group(2))}


def test_postgres_restarts_while_clients_submit_and_nothing_accepted_is_lost(private_postgres, web, links):
    # The form was loaded before the restart: its CSRF cookie and token serve every submit.
    form_page = requests.get(web.base + links[0][1], timeout=10)
    assert form_page.status_code == 200
    csrf = (form_page.cookies["csrftoken"], CSRF.search(form_page.text).group(1))

    clients = Clients(web, links, csrf)
    clients.start()
    try:
        clients.wait_for(lambda submits: sum(s.status == 302 for s in submits) >= 20)
        went_down = time.monotonic()
        private_postgres.stop("fast")
        time.sleep(2)
        private_postgres.start()
        back = time.monotonic()
        clients.wait_for(lambda submits: sum(s.started > back for s in submits) >= 30)
    finally:
        clients.stop()
    # A restart while nobody submits: every gunicorn thread that served keeps a connection that the restart
    # broke; the next submits must still be accepted (CONN_HEALTH_CHECKS replaces such a connection).
    private_postgres.stop("fast")
    private_postgres.start()
    quiet_back = time.monotonic()
    clients.start()
    try:
        clients.wait_for(lambda submits: sum(s.started > quiet_back for s in submits) >= 30)
    finally:
        clients.stop()
    submits = clients.submits
    log = (private_postgres.directory / "gunicorn.log").read_text()[-3000:]

    assert [s for s in submits if s.error] == []
    assert {s.status for s in submits} <= {302, 503}, (sorted({s.status for s in submits}), log)
    accepted = [s for s in submits if s.status == 302]
    refused = [s for s in submits if s.status == 503]
    assert sum(s.started < went_down for s in accepted) >= 20
    assert refused, "no submit met the restart: nothing was tested"
    for s in accepted:
        assert s.location == f"{s.path}thanks/"
    for s in refused:
        assert "We could not save that just now" in s.page and "try again" in s.page
        assert "Traceback" not in s.page and "django" not in s.page.lower()
        assert s.retry_after.isdigit()
        action, fields = retry_form(s)
        assert fields.pop("csrfmiddlewaretoken")
        assert (action, fields) == (s.path, s.answers)
    # The app reconnects: once PostgreSQL is up again, every submit is accepted.
    after = [s for s in submits if s.started > back]
    assert len([s for s in after if s.started > quiet_back]) >= 30 and len(after) >= 60
    assert {s.status for s in after} == {302}, [(round(s.started - back, 2), s.status) for s in after][:40]

    def stored() -> dict[int, list]:  # one response per request at most: a unique key says so
        sql = "SELECT request_id, nps_score, answers->>'reason' FROM feedback_response"
        rows = private_postgres.query(DATABASE, sql)
        return {request_id: answer for request_id, *answer in rows}

    def expected(s: Submit) -> list:
        return [int(s.answers["nps"]), s.answers["reason"]]

    rows = stored()
    for s in accepted:
        assert rows.get(s.request_id) == expected(s), s
    # A connection lost during COMMIT may leave a refused submit stored: then with what the client sent.
    submitted = {s.request_id: s for s in submits}
    assert set(rows) <= set(submitted)
    assert all(rows[i] == expected(submitted[i]) for i in rows)

    # The clients press the retry page's button: the answers it kept are stored, once.
    for s in refused:
        action, fields = retry_form(s)
        token = fields.pop("csrfmiddlewaretoken")
        response = post(web, action, fields, (csrf[0], token))
        assert response.status_code == 302 and response.headers["Location"] == f"{s.path}thanks/"
    rows = stored()
    assert set(rows) == set(submitted)
    assert all(rows[i] == expected(submitted[i]) for i in rows)
    # Each stored response's request says it was answered: they were written in one transaction.
    answered = private_postgres.query(DATABASE, "SELECT id FROM feedback_surveyrequest WHERE responded_at IS NOT NULL")
    assert {request_id for (request_id,) in answered} == set(rows)
