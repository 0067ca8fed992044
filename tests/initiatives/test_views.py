"""The pages: they render with data and without, forms show errors inline, permissions hold, and query
counts stay flat as data grows."""

from datetime import datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import dateformat, timezone

from cxprogram.tenancy.permissions import Role
from initiatives import services
from initiatives.models import Ballot, Decision, Initiative, Meeting, RankingRound, Status
from tests.conftest import client_for
from tests.initiatives.factories import make_initiative, populate

pytestmark = pytest.mark.django_db


def day(value) -> str:
    return dateformat.format(value, "j M Y")


def url(org, name, *args):
    return reverse(f"initiatives:{name}", args=[org.slug, *args])


@pytest.fixture
def people(org, owner, member):
    return {
        "owner": owner,
        "executive": member(Role.EXECUTIVE),
        "cx_coe": member(Role.CX_COE),
        "project_manager": member(Role.PROJECT_MANAGER),
        "staff": member(Role.STAFF),
    }


@pytest.fixture
def populated(org, people):
    populate(org, people)
    return org


def test_every_page_renders_empty(org, owner_client):
    for name in (
        "index",
        "idea_new",
        "kanban",
        "roadmap",
        "matrix",
        "actions",
        "settings",
        "rounds",
        "round_new",
        "board",
    ):
        response = owner_client.get(url(org, name))
        assert response.status_code == 200, name
    assert "The backlog is empty" in owner_client.get(url(org, "index")).content.decode()


def test_every_page_renders_with_data(populated, owner_client):
    org = populated
    pages = [url(org, n) for n in ("index", "kanban", "roadmap", "matrix", "actions", "settings", "rounds", "board")]
    pages += [url(org, "detail", i.pk) for i in Initiative.objects.for_org(org)]
    pages += [url(org, "round", r.pk) for r in RankingRound.objects.for_org(org)]
    pages += [url(org, "meeting", m.pk) for m in Meeting.objects.for_org(org)]
    pages += [url(org, "minutes", m.pk) for m in Meeting.objects.for_org(org)]
    initiative = Initiative.objects.for_org(org).filter(status=Status.QUALIFIED).first()
    pages += [
        url(org, "edit", initiative.pk),
        url(org, "score", initiative.pk),
        url(org, "transition_rank", initiative.pk),
    ]
    for page in pages:
        response = owner_client.get(page)
        assert response.status_code == 200, page
    assert "“Score" not in owner_client.get(url(org, "matrix")).content.decode()


def test_backlog_filters_sorts_and_shows_formulas(org, owner, owner_client):
    a = make_initiative(org, owner, Status.RANKED, title="Faster invoices", horizon="short")
    b = make_initiative(org, owner, Status.QUALIFIED, title="Client advisory panel", horizon="long")
    services.save_score(initiative=b, actor=owner, customer_benefit=9, business_value=9, cost=1, effort_days=2)
    html = owner_client.get(url(org, "index"), {"horizon": "long"}).content.decode()
    assert b.code in html and a.code not in html
    assert "(benefit 9 + business value 9) × confidence 80% ÷ effort 2 person-days = 7.20" in html
    html = owner_client.get(url(org, "index"), {"sort": "-score"}).content.decode()
    assert html.index(b.code) < html.index(a.code)
    html = owner_client.get(url(org, "index"), {"q": a.code}).content.decode()
    assert a.code in html and b.code not in html
    assert owner_client.get(url(org, "index"), {"status": "nonsense", "owner": "x;drop"}).status_code == 200


def test_a_submitter_finds_their_own_ideas_and_what_became_of_them(org, owner, people):
    staff = people["staff"]
    staff_client = client_for(staff)
    empty = staff_client.get(url(org, "index"), {"mine": "1"}).content.decode()
    assert "You have not submitted an idea yet" in empty and url(org, "idea_new") in empty
    kept = services.submit_idea(organization=org, actor=staff, title="Site photos in the weekly mail")
    declined = services.submit_idea(organization=org, actor=staff, title="Name badges for site visits")
    services.decline(initiative=declined, actor=owner, reason="Already covered by onboarding.")
    others = make_initiative(org, owner, Status.QUALIFIED, title="Client advisory panel")

    html = staff_client.get(url(org, "index"), {"mine": "1"}).content.decode()
    assert kept.code in html and declined.code in html  # a declined idea too: its submitter looks for the outcome
    assert others.code not in html
    assert 'name="mine" value="1" checked' in html
    assert declined.code not in staff_client.get(url(org, "index")).content.decode()  # the backlog: open ones


def test_list_pages_queries_do_not_grow_with_data(org, owner, owner_client, django_assert_max_num_queries):
    pages = [url(org, name) for name in ("index", "kanban", "roadmap", "matrix", "board", "actions", "rounds")]
    for n in range(2):
        make_initiative(org, owner, Status.RANKED, title=f"Item {n}")
    counts = {}
    for page in pages:
        owner_client.get(page)  # settings rows are created on the first visit
        with django_assert_max_num_queries(20) as few:
            owner_client.get(page)
        counts[page] = len(few.captured_queries)
    for n in range(4):
        make_initiative(org, owner, Status.IN_PROGRESS, title=f"More {n}")
        make_initiative(org, owner, Status.QUALIFIED, title=f"Qualified {n}")
    for page in pages:
        with django_assert_max_num_queries(counts[page]):
            owner_client.get(page)


def test_a_member_submits_an_idea_prefilled_from_a_link(org, teammate_client, teammate):
    page = teammate_client.get(
        url(org, "idea_new"), {"title": "Clearer invoices", "source": "client_feedback", "reference": "Survey 12"}
    )
    html = page.content.decode()
    assert 'value="Clearer invoices"' in html and 'value="Survey 12"' in html
    response = teammate_client.post(url(org, "idea_new"), {"title": "", "source": "staff_idea"})
    assert response.status_code == 200 and "This field is required" in response.content.decode()
    response = teammate_client.post(
        url(org, "idea_new"),
        {"title": "Clearer invoices", "source": "client_feedback", "source_reference": "Survey 12"},
    )
    idea = Initiative.objects.get(organization=org)
    assert response.status_code == 302 and idea.submitted_by == teammate and idea.source == "client_feedback"


def test_staff_cannot_manage(org, owner, teammate_client):
    initiative = make_initiative(org, owner)
    assert teammate_client.get(url(org, "settings")).status_code == 403
    assert teammate_client.get(url(org, "score", initiative.pk)).status_code == 403
    assert teammate_client.get(url(org, "round_new")).status_code == 403
    assert teammate_client.post(url(org, "transition_qualify", initiative.pk), {"horizon": "short"}).status_code == 403
    assert teammate_client.get(url(org, "edit", initiative.pk)).status_code == 403
    initiative.refresh_from_db()
    assert initiative.status == Status.SUBMITTED


def test_refused_transition_shows_the_reason_on_the_form(org, owner, owner_client):
    idea = services.submit_idea(organization=org, actor=owner, title="No description")
    response = owner_client.post(url(org, "transition_qualify", idea.pk), {"horizon": "short"})
    assert response.status_code == 200 and "Describe the problem and the change" in response.content.decode()


def test_kanban_move_by_htmx_and_by_form(org, owner, owner_client):
    initiative = make_initiative(org, owner, Status.QUALIFIED)
    response = owner_client.post(url(org, "kanban_move", initiative.pk), {"status": "approved"}, HTTP_HX_REQUEST="true")
    assert "change board decides" in response.content.decode() and "kanban-refused" in response["HX-Trigger"]
    services.save_score(initiative=initiative, actor=owner, customer_benefit=1, business_value=1, cost=0, effort_days=1)
    response = owner_client.post(url(org, "kanban_move", initiative.pk), {"status": "ranked"}, HTTP_HX_REQUEST="true")
    assert "moved to ranked" in response.content.decode() and "HX-Trigger" not in response
    response = owner_client.post(url(org, "kanban_move", initiative.pk), {"status": "done"})
    assert response.status_code == 302
    initiative.refresh_from_db()
    assert initiative.status == Status.RANKED


def test_ballot_without_javascript_positions_and_up_down(org, owner, owner_client):
    a, b, c = (make_initiative(org, owner, Status.QUALIFIED, title=t) for t in ("Alpha", "Bravo", "Charlie"))
    round_ = services.open_round(
        organization=org,
        actor=owner,
        title="Spring",
        initiatives=[a, b, c],
        stakeholders=[owner],
        closes_at=timezone.now() + timedelta(days=3),
    )
    page = url(org, "round", round_.pk)
    # The ↑ button re-orders the list without saving
    response = owner_client.post(page, {"order": [a.pk, b.pk, c.pk], "move": f"{c.pk}:up"})
    html = response.content.decode()
    assert html.index("Charlie") < html.index("Bravo") and not Ballot.objects.exists()
    # Typed positions that repeat a number are refused with a clear message
    response = owner_client.post(page, {f"position_{a.pk}": 1, f"position_{b.pk}": 1, f"position_{c.pk}": 2})
    assert response.status_code == 400 and "different position from 1 to 3" in response.content.decode()
    response = owner_client.post(page, {f"position_{a.pk}": 3, f"position_{b.pk}": 1, f"position_{c.pk}": 2})
    assert response.status_code == 302
    assert Ballot.objects.get().order == [b.pk, c.pk, a.pk]
    # Drag-and-drop order (hidden inputs) that is not a permutation
    response = owner_client.post(page, {"order": [a.pk, a.pk, b.pk]})
    assert response.status_code == 400 and "appear more than once" in response.content.decode()


def test_meeting_decision_with_limits_and_override(org, owner, member, owner_client):
    executive = member(Role.EXECUTIVE)
    services.set_limits(organization=org, actor=executive, capacity_person_days_per_month=10, budget_per_quarter=5000)
    make_initiative(org, owner, Status.RANKED)
    meeting = Meeting.objects.create(organization=org, scheduled_for=timezone.now() + timedelta(days=2))
    services.build_agenda(meeting)
    item = meeting.agenda.get()
    page = url(org, "meeting", meeting.pk)
    deadline = (timezone.localdate() + timedelta(days=60)).isoformat()
    data = {
        "item": item.pk,
        f"i{item.pk}-outcome": "approve",
        f"i{item.pk}-deadline": deadline,
        f"i{item.pk}-owner": owner.pk,
        f"i{item.pk}-person_days": 12,
        f"i{item.pk}-budget": 1000,
    }
    response = owner_client.post(page, data)
    assert "Record who is present" in response.content.decode()
    owner_client.post(url(org, "meeting_attendance", meeting.pk), {"present": [owner.pk, executive.pk]})
    response = owner_client.post(page, data)
    html = response.content.decode()
    assert response.status_code == 400 and "takes 12 person-days; 10 remain this month" in html
    assert not Decision.objects.exists()
    response = owner_client.post(page, {**data, f"i{item.pk}-override_reason": "Client renewal at stake"})
    assert response.status_code == 302
    decision = Decision.objects.get()
    assert decision.override_reason == "Client renewal at stake"
    html = owner_client.get(page).content.decode()
    assert "Limits overridden</span> Client renewal at stake" in html
    assert "2 over the limit" in html and '<progress class="over"' in html  # in red, not "-2 remaining"
    assert "1,000" in html and "of 5,000" in html and "4,000 remaining" in html  # money grouped, as elsewhere
    assert "12 person-days, budget 1,000 " in html  # the decision itself too
    minutes = owner_client.get(url(org, "minutes", meeting.pk)).content.decode()
    assert "<td>1,000 " in minutes and "Strategy limits overridden: Client renewal at stake" in minutes


def test_the_meeting_page_names_the_quarter_its_budget_counts(org, member, owner_client):
    executive = member(Role.EXECUTIVE)
    services.set_limits(organization=org, actor=executive, capacity_person_days_per_month=10, budget_per_quarter=5000)
    when = datetime(2027, 2, 10, 10, 0, tzinfo=org.tz)
    meeting = Meeting.objects.create(organization=org, scheduled_for=when)

    html = owner_client.get(url(org, "meeting", meeting.pk)).content.decode()

    assert "Budget committed this quarter (Jan–Mar 2027)" in html  # it said Jan–Apr: the next quarter's first day


def test_the_roadmap_marks_deadlines_without_a_start_and_dependencies_out_of_order(org, owner, owner_client):
    today = timezone.localdate()
    portal = make_initiative(
        org, owner, Status.IN_PROGRESS, title="Client portal", deadline=today + timedelta(days=120)
    )
    script = make_initiative(org, owner, Status.APPROVED, title="Kick-off script", deadline=today + timedelta(days=30))
    binder = make_initiative(
        org, owner, Status.APPROVED, title="Closeout <b>binder</b>", deadline=today + timedelta(days=200)
    )
    services.add_dependency(initiative=script, blocker=portal, actor=owner)  # due before the portal is
    services.add_dependency(initiative=binder, blocker=portal, actor=owner)  # due after: in order

    response = owner_client.get(url(org, "roadmap"))

    html = response.content.decode()
    assert "One dependency is out of order" in html
    assert f"{script.code}</a> is due {day(today + timedelta(days=30))}, but" in html
    assert f"is due {day(today + timedelta(days=120))}." in html
    assert binder.code + "</a> is due" not in html
    assert html.count("Deadline only") == 2  # approved with a deadline, not scheduled yet
    figure = response.context["figure"]
    diamonds = [t for t in figure["data"] if t["type"] == "scatter"]
    assert [y for t in diamonds for y in t["y"]] == [
        f"{script.code} Kick-off script",
        f"{binder.code} Closeout &lt;b&gt;binder&lt;/b&gt;",  # plotly reads tags: escaped, it shows as typed
    ]
    assert {t["marker"]["symbol"] for t in diamonds} == {"diamond"}
    bars = [y.split()[0] for t in figure["data"] if t["type"] == "bar" for y in t["y"]]
    assert bars == [portal.code]  # a deadline alone is no longer a bar one day wide
    arrows = {a["y"].split()[0]: a["arrowcolor"] for a in figure["layout"]["annotations"]}
    assert arrows == {script.code: "#b42318", binder.code: "#5a6472"}


def test_minutes_pdf(populated, owner_client):
    meeting = Meeting.objects.for_org(populated).first()
    response = owner_client.get(url(populated, "minutes_pdf", meeting.pk))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")


def test_only_executives_set_limits(org, owner, member, owner_client):
    response = owner_client.post(url(org, "board"), {"form": "limits", "capacity_person_days_per_month": 5})
    assert response.status_code == 403
    executive_client = client_for(member(Role.EXECUTIVE))
    response = executive_client.post(url(org, "board"), {"form": "limits", "capacity_person_days_per_month": "-5"})
    assert "Capacity must be zero or more" in response.content.decode()
    response = executive_client.post(
        url(org, "board"), {"form": "limits", "capacity_person_days_per_month": "40", "budget_per_quarter": ""}
    )
    assert response.status_code == 302
    assert services.program_for(org).capacity_person_days_per_month == 40


def test_an_idea_raised_from_a_feedback_case_links_back(org, people, owner_client, teammate_client):
    from feedback.models import FollowUpCase
    from tests.feedback.factories import populate as populate_feedback

    populate_feedback(org, people)
    case = FollowUpCase.objects.for_org(org).select_related("response").get()
    html = owner_client.get(url(org, "idea_new"), {"case": case.pk}).content.decode()
    assert "Raised from Populated client&#x27;s feedback on" in html and f"Follow-up case {case.pk}." in html
    assert "Populated client" not in teammate_client.get(url(org, "idea_new"), {"case": case.pk}).content.decode()
    response = owner_client.post(
        url(org, "idea_new"),
        {
            "title": "Answer client emails within a day",
            "source": "client_feedback",
            "case": case.pk,
            "response": case.response_id,
        },
    )
    idea = Initiative.objects.get(title="Answer client emails within a day")
    assert response.status_code == 302 and (idea.case, idea.response) == (case, case.response)
    page = owner_client.get(url(org, "detail", idea.pk)).content.decode()
    assert reverse("feedback:case_detail", args=[org.slug, case.pk]) in page


def test_home_page_attention_items(org, owner, member, owner_client):
    voter = member(Role.EXECUTIVE)
    make_initiative(org, owner, title="Waiting idea")
    a, b = (make_initiative(org, owner, Status.QUALIFIED, title=t) for t in ("A", "B"))
    round_ = services.open_round(
        organization=org,
        actor=owner,
        title="Winter list",
        initiatives=[a, b],
        stakeholders=[voter],
        closes_at=timezone.now() + timedelta(days=2),
    )
    html = owner_client.get(reverse("org_home", args=[org.slug])).content.decode()
    assert "1 idea to qualify" in html and "Winter list" not in html
    html = client_for(voter).get(reverse("org_home", args=[org.slug])).content.decode()
    assert "Rank the initiatives of “Winter list”" in html and url(org, "round", round_.pk) in html
