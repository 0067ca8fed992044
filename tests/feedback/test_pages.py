"""Staff pages: they render with data, filters work, permissions hold, query counts stay flat."""

from datetime import UTC, datetime

import pytest
from django.utils import timezone

from cxprogram.tenancy.permissions import Role
from feedback import services
from feedback.models import Batch, Client, FollowUpCase, Response
from tests.conftest import client_for
from tests.feedback.factories import answer_survey, make_account, make_pm, populate

pytestmark = pytest.mark.django_db


@pytest.fixture
def pm(org):
    return make_pm(org, email="paula@acme.example")


@pytest.fixture
def data(org, owner, pm):
    populate(org, {"owner": owner, "project_manager": pm})
    return org


PAGES = [
    "",
    "clients/",
    "contacts/",
    "projects/",
    "imports/",
    "templates/",
    "batches/",
    "batches/new/",
    "responses/",
    "cases/",
    "settings/",
    "clients/new/",
    "contacts/new/",
    "projects/new/",
]


def test_every_page_renders_for_the_admin(owner_client, data):
    for page in PAGES:
        response = owner_client.get(f"/o/acme/feedback/{page}")
        assert response.status_code == 200, page
    client = Client.objects.for_org(data).get()
    case = FollowUpCase.objects.for_org(data).get()
    response_row = Response.objects.for_org(data).get()
    batch = Batch.objects.for_org(data).get()
    for page in (
        f"clients/{client.pk}/",
        f"cases/{case.pk}/",
        f"responses/{response_row.pk}/",
        f"batches/{batch.pk}/",
        f"batches/{batch.pk}/progress/",
        f"clients/{client.pk}/edit/",
    ):
        assert owner_client.get(f"/o/acme/feedback/{page}").status_code == 200, page


MALFORMED = "page=abc&sort=-nope&from=x&to=2026-13-45&client=abc&project=-5&score_min=x&state=bogus&owner=zz"


def test_malformed_filters_are_a_page_with_a_message_not_an_error(owner_client, data):
    for page in PAGES:
        response = owner_client.get(f"/o/acme/feedback/{page}?{MALFORMED}")
        assert response.status_code == 200, page
    listed = owner_client.get(f"/o/acme/feedback/responses/?{MALFORMED}").content.decode()
    assert "Use dates like 2026-01-31." in listed


def test_staff_members_cannot_see_feedback(teammate_client, data):
    assert teammate_client.get("/o/acme/feedback/").status_code == 403
    assert teammate_client.get("/o/acme/feedback/cases/").status_code == 403


def test_project_manager_cannot_edit_clients_or_import(data, pm):
    client = client_for(pm)
    assert client.get("/o/acme/feedback/clients/new/").status_code == 403
    assert client.get("/o/acme/feedback/imports/").status_code == 403
    assert client.get("/o/acme/feedback/batches/new/").status_code == 200


def answered(org, pm, client_name: str, scores: list[int]) -> Client:
    """`pm`'s project for a new client, whose contacts answered `scores`, through the real sending path."""
    client, people, project = make_account(org, pm, contacts=len(scores), client_name=client_name)
    batch = services.create_batch(organization=org, actor=pm.user, sender=pm, projects=[project], contacts=people)
    services.start_batch(batch=batch, from_states=["draft"])
    services.dispatch_batch(org, batch.pk)
    for contact, score in zip(people, scores, strict=True):
        answer_survey(contact.requests.get(), {"nps": score})
    return client


def test_client_page_shows_account_nps_of_latest_answer_per_contact(owner_client, org, pm):
    client = answered(org, pm, "Harbor Authority", [10, 9, 2])
    # The first contact answered 10 but, later, 5: only the latest counts.
    Response.objects.filter(client=client, nps_score=10).update(nps_score=5, submitted_at=timezone.now())
    # Latest scores 5, 9, 2: one promoter, two detractors of three → (1 - 2) / 3 = -33.
    page = owner_client.get(f"/o/acme/feedback/clients/{client.pk}/")
    assert page.context["account_nps"] == {"score": -33, "contacts": 3}


def test_a_project_manager_narrows_the_responses_to_their_projects_and_searches_them(org, pm):
    other = make_pm(org, name="Omar Other", email="omar@acme.example")
    answered(org, pm, "Harbor Authority", [9, 3])
    answered(org, other, "City Schools", [10])
    paula = client_for(pm)
    clients = lambda r: sorted(x.client.name for x in r.context["page"].object_list)  # noqa: E731

    assert clients(paula.get("/o/acme/feedback/responses/")) == ["City Schools", "Harbor Authority", "Harbor Authority"]
    mine = paula.get("/o/acme/feedback/responses/?mine=1")
    assert clients(mine) == ["Harbor Authority", "Harbor Authority"]
    assert 'name="mine" value="1" checked' in mine.content.decode()
    assert clients(paula.get("/o/acme/feedback/responses/?q=city")) == ["City Schools"]
    assert clients(paula.get("/o/acme/feedback/responses/?q=omar")) == []  # contacts, clients, projects: not PMs


def test_client_list_filters_searches_and_sorts(owner_client, org, pm):
    make_account(org, pm, contacts=1, client_name="Harbor Authority")
    make_account(org, pm, contacts=3, client_name="City Schools")
    Client.objects.filter(name="City Schools").update(status="prospect", industry="Education")
    names = lambda r: [c.name for c in r.context["page"].object_list]  # noqa: E731
    assert names(owner_client.get("/o/acme/feedback/clients/?q=harbor")) == ["Harbor Authority"]
    assert names(owner_client.get("/o/acme/feedback/clients/?status=prospect")) == ["City Schools"]
    assert names(owner_client.get("/o/acme/feedback/clients/?sort=-contact_count")) == [
        "City Schools",
        "Harbor Authority",
    ]
    assert names(owner_client.get("/o/acme/feedback/clients/?sort=bogus")) == ["City Schools", "Harbor Authority"]


def test_a_long_list_pages_forward_and_back_keeping_its_filter_and_order(owner_client, org, pm):
    make_account(org, pm, contacts=30, client_name="Harbor Authority")
    make_account(org, pm, contacts=2, client_name="City Schools")
    listed = "/o/acme/feedback/contacts/?q=harbor&sort=-email"

    first = owner_client.get(listed).content.decode()
    second = owner_client.get(listed + "&page=2")

    assert "Page 1 of 2 · 30 in all" in first
    assert 'href="?q=harbor&amp;sort=-email&amp;page=2">Next →</a>' in first and "← Previous" not in first
    assert 'href="?q=harbor&amp;sort=-email&amp;page=1">← Previous</a>' in second.content.decode()
    emails = [c.email for c in second.context["page"].object_list]
    assert len(emails) == 5 and emails == sorted(emails, reverse=True)  # "older" meant nothing in an A-Z list


def test_list_query_counts_do_not_grow(owner_client, org, owner, pm):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    pages = ("clients/", "contacts/", "projects/", "responses/", "cases/", "batches/")

    def counts():
        found = {}
        for page in pages:
            with CaptureQueriesContext(connection) as queries:
                assert owner_client.get(f"/o/acme/feedback/{page}").status_code == 200
            found[page] = len(queries)
        return found

    populate(org, {"owner": owner, "project_manager": pm})
    before = counts()
    for n in range(8):
        make_account(org, pm, contacts=2, client_name=f"Client {n}")
    assert counts() == before
    assert max(before.values()) <= 16


def test_clients_page_query_count_does_not_grow_with_clients_in_sub_units(owner_client, org, pm):
    """A sub-unit shows as "Parent › Unit": its parent must come with the page's queries, not one per row."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from cxprogram.tenancy.models import Unit

    top = Unit.objects.create(organization=org, name="Buildings")

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            page = owner_client.get("/o/acme/feedback/clients/")
        assert page.status_code == 200
        return len(queries)

    first = Unit.objects.create(organization=org, name="Team 0", parent=top)
    Client.objects.filter(pk=make_account(org, pm, client_name="Client 0")[0].pk).update(unit=first)
    before = count()
    for n in range(1, 6):
        unit = Unit.objects.create(organization=org, name=f"Team {n}", parent=top)
        Client.objects.filter(pk=make_account(org, pm, client_name=f"Client {n}")[0].pk).update(unit=unit)
    page = owner_client.get("/o/acme/feedback/clients/").content.decode()
    assert "Buildings › Team 5" in page
    assert count() == before


def test_pm_creates_a_batch_from_the_form_and_sees_the_skip_preview(org, pm):
    client, people, project = make_account(org, pm, contacts=2)
    services.opt_out_contact(contact=people[1], reason="asked")
    browser = client_for(pm)
    form = browser.get(f"/o/acme/feedback/batches/new/?projects={project.pk}")
    assert [c.pk for c in form.context["form"].fields["contacts"].queryset] == sorted(c.pk for c in people)
    template = services.default_template(org)
    response = browser.post(
        "/o/acme/feedback/batches/new/",
        {
            "projects": [project.pk],
            "contacts": [c.pk for c in people],
            "template": template.pk,
            "personal_message": "Hello",
            "reply_to": "paula@acme.example",
        },
    )
    batch = Batch.objects.for_org(org).get()
    assert response.status_code == 302 and response["Location"].endswith(f"/batches/{batch.pk}/")
    detail = browser.get(f"/o/acme/feedback/batches/{batch.pk}/")
    assert detail.context["skipped"] == 1 and b"Skipped: Opted out" in detail.content
    empty = browser.post(
        "/o/acme/feedback/batches/new/",
        {"projects": [project.pk], "contacts": [], "template": template.pk, "reply_to": "paula@acme.example"},
    )
    assert empty.status_code == 200 and b"Choose at least one contact" in empty.content


def test_the_batch_form_says_when_each_project_was_last_asked(org, pm, django_assert_max_num_queries):
    _, people, asked = make_account(org, pm, contacts=1, client_name="Harbor Authority")
    _, others, never = make_account(org, pm, contacts=1, client_name="Bayside Clinic")
    batch = services.create_batch(organization=org, actor=pm.user, sender=pm, projects=[asked], contacts=people)
    services.start_batch(batch=batch, from_states=["draft"])
    Batch.objects.filter(pk=batch.pk).update(started_at=datetime(2026, 11, 3, 15, tzinfo=UTC))
    draft = services.create_batch(organization=org, actor=pm.user, sender=pm, projects=[never], contacts=others)
    assert draft.state == "draft"  # a draft does not count: nobody was asked
    browser = client_for(pm)

    page = browser.get("/o/acme/feedback/batches/new/").content.decode()
    assert f'{asked.code} · {asked.name} <span class="muted small">(Harbor Authority) · last asked 3 Nov 2026' in page
    assert f'{never.code} · {never.name} <span class="muted small">(Bayside Clinic) · never asked' in page
    with django_assert_max_num_queries(100) as few:
        browser.get("/o/acme/feedback/batches/new/")
    for n in range(5):
        make_account(org, pm, contacts=1, client_name=f"Client {n}")
    with django_assert_max_num_queries(len(few.captured_queries)):  # one query for the projects and their dates
        browser.get("/o/acme/feedback/batches/new/")


def test_a_sent_batch_shows_where_each_contact_stands_a_page_at_a_time(org, pm, django_assert_max_num_queries):
    client, people, project = make_account(org, pm, contacts=30, client_name="Harbor Authority")
    services.opt_out_contact(contact=people[0], reason="asked")
    batch = services.create_batch(organization=org, actor=pm.user, sender=pm, projects=[project], contacts=people)
    services.start_batch(batch=batch, from_states=["draft"])
    services.dispatch_batch(org, batch.pk)
    first, second, third = sorted(people[1:], key=lambda c: c.name)[:3]
    answer_survey(first.requests.get(), {"nps": 9})
    second.requests.update(state="bounced")
    third.requests.update(reminders_sent=2, opened_at=timezone.now())
    browser = client_for(pm)

    with django_assert_max_num_queries(30):
        page = browser.get(f"/o/acme/feedback/batches/{batch.pk}/")

    statuses = {bc.contact.name: (reason, status and status["label"]) for bc, reason, status in page.context["rows"]}
    assert len(statuses) == 25 and page.context["page"].paginator.count == 30
    assert statuses[first.name] == ("", "Answered") and statuses[second.name] == ("", "Bounced")
    assert statuses[third.name] == ("", "Opened · 2 reminders")
    html = page.content.decode()
    assert f'href="/o/acme/feedback/responses/{first.responses.get().pk}/">Answered</a>' in html
    assert "Contacts · 30 · 1 was skipped" in html
    last = browser.get(f"/o/acme/feedback/batches/{batch.pk}/?page=2")
    assert len(last.context["rows"]) == 5


def test_case_resolution_needs_outcome_and_root_cause(org, owner, pm, member):
    populate(org, {"owner": owner, "project_manager": pm})
    case = FollowUpCase.objects.for_org(org).get()
    browser = client_for(pm)
    url = f"/o/acme/feedback/cases/{case.pk}/"
    page = browser.post(url, {"owner": pm.pk, "state": "resolved", "notes": "Called them"})
    assert page.status_code == 200 and b"Say how the case was resolved." in page.content
    page = browser.post(
        url, {"owner": pm.pk, "state": "resolved", "outcome": "Agreed a weekly call", "root_cause": "communication"}
    )
    assert page.status_code == 302
    case.refresh_from_db()
    assert case.state == "resolved" and case.closed_at is not None
    executive = client_for(member(Role.EXECUTIVE))
    assert executive.post(url, {"state": "open"}).status_code == 200  # may read, not change
    case.refresh_from_db()
    assert case.state == "resolved"
