"""Hostile input on the REST API: schemathesis generates requests for every operation of the published
OpenAPI schema (`/api/schema/`) and sends them, in-process over WSGI, with a real personal token of an admin
of an organization that holds a row of every tenant model. No response may be a 5xx and every response must
match what the schema documents for it."""

import pytest
import schemathesis
from django.core.cache import cache
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from cxprogram.accounts.services import create_api_token
from tests.factories import make_org, populate_organization

pytestmark = pytest.mark.django_db

# Examples per operation: enough to reach validation, lookups and pagination on each, while the whole
# run stays within a few minutes on a small shared machine.
EXAMPLES_PER_OPERATION = 8


@pytest.fixture
def in_process_wsgi():
    """Django's WSGI handler closes the database connection around each request; inside a test's
    transaction that would drop the test data, so (like Django's test client) keep the connection."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield WSGIHandler()
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def populated():
    organization = make_org("Fuzz Partners", slug="fuzz")
    people = populate_organization(organization, owner_name="Ada Admin")
    token = create_api_token(user=people["owner"].user, name="fuzz")[1]
    return organization, token


def fuzz_operation(operation, headers, path_parameters, succeeded: set):
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(headers=headers, path_parameters=path_parameters))
    def run(case):
        # Each example runs in a savepoint rolled back afterwards, so that one generated request (say,
        # demoting the token's owner) cannot turn every later one into a 403.
        with transaction.atomic():
            response = case.call()
            transaction.set_rollback(True)
        if response.status_code < 300:
            succeeded.add(operation.label)
        case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])

    run()


def test_every_api_operation_survives_generated_input(populated, in_process_wsgi):
    organization, token = populated
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", in_process_wsgi)
    headers = {"Authorization": f"Bearer {token}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 20, "the schema should publish every app's API"
    succeeded, failures = set(), {}
    for operation in operations:
        path_parameters = {"org_slug": organization.slug} if "{org_slug}" in operation.path else {}
        cache.clear()  # the token's rate limit counts per minute; each operation gets a fresh allowance
        try:
            fuzz_operation(operation, headers, path_parameters, succeeded)
        except BaseException as error:  # noqa: BLE001 — every operation is fuzzed; all findings are reported together
            failures[operation.label] = str(error)
    # Guard against a run where every request bounced (a revoked token, a demoted owner): then no
    # operation would have reached its real code.
    assert {"GET /api/v1/orgs/{org_slug}/members/", "GET /api/v1/orgs/{org_slug}/units/"} <= succeeded
    assert not failures, "\n\n".join(f"{label}:\n{message[:3000]}" for label, message in failures.items())
