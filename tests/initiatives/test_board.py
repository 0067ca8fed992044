"""The change board: its calendar, the agenda builder, strategy limits, minutes."""

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from cxprogram.audit.models import AuditEvent
from cxprogram.tenancy.permissions import Role
from initiatives import services
from initiatives.models import AgendaItem, Decision, Meeting, Status
from initiatives.schedule import next_meeting_at, quarter_bounds
from initiatives.selectors import committed
from tests.initiatives.factories import make_initiative, make_meeting

NEW_YORK = ZoneInfo("America/New_York")


def test_first_tuesday_in_the_organization_time_zone_across_daylight_saving():
    # First Tuesday of December 2026 is the 1st; 10:00 EST is 15:00 UTC.
    after = datetime(2026, 11, 23, 12, tzinfo=UTC)
    assert next_meeting_at(after, NEW_YORK, 1, 1, time(10)) == datetime(2026, 12, 1, 15, tzinfo=UTC)
    # Just after the March 2026 board (3 March, 10:00 EST): the next is 7 April at 10:00 EDT = 14:00 UTC.
    after = datetime(2026, 3, 3, 15, 1, tzinfo=UTC)
    assert next_meeting_at(after, NEW_YORK, 1, 1, time(10)) == datetime(2026, 4, 7, 14, tzinfo=UTC)
    # Third Thursday of January 2027 is the 21st.
    assert next_meeting_at(datetime(2027, 1, 1, tzinfo=UTC), UTC, 3, 3, time(9)) == datetime(2027, 1, 21, 9, tzinfo=UTC)


def test_fiscal_quarters():
    assert quarter_bounds(date(2026, 11, 23), 7) == (date(2026, 10, 1), date(2027, 1, 1))
    assert quarter_bounds(date(2026, 11, 23), 1) == (date(2026, 10, 1), date(2027, 1, 1))
    assert quarter_bounds(date(2026, 11, 23), 2) == (date(2026, 11, 1), date(2027, 2, 1))
    assert quarter_bounds(date(2027, 1, 15), 11) == (date(2026, 11, 1), date(2027, 2, 1))


@pytest.fixture
def ny_org(org):
    org.time_zone = "America/New_York"
    org.save()
    return org


@pytest.mark.django_db
def test_the_next_meeting_is_planned_once(ny_org):
    now = datetime(2026, 11, 23, 12, tzinfo=UTC)
    first = services.ensure_next_meeting(ny_org, now)
    again = services.ensure_next_meeting(ny_org, now + timedelta(hours=5))
    assert first.pk == again.pk and first.scheduled_for == datetime(2026, 12, 1, 15, tzinfo=UTC)
    assert Meeting.objects.count() == 1


@pytest.mark.django_db
def test_agenda_builder_orders_ranked_qualified_deferred_then_at_risk(ny_org, owner):
    org = ny_org
    second = make_initiative(org, owner, Status.RANKED, title="Second priority")
    services.rank(initiative=second, actor=owner, priority=2)
    first = make_initiative(org, owner, Status.RANKED, title="First priority")
    low = make_initiative(org, owner, Status.QUALIFIED, title="Qualified, low score")
    services.save_score(initiative=low, actor=owner, customer_benefit=1, business_value=1, cost=0, effort_days=10)
    high = make_initiative(org, owner, Status.QUALIFIED, title="Qualified, high score")
    services.save_score(initiative=high, actor=owner, customer_benefit=9, business_value=9, cost=0, effort_days=1)
    past = make_meeting(org, timezone.now() - timedelta(days=20))
    deferred = make_initiative(org, owner, Status.DEFERRED, title="Deferred last time", meeting=past)
    risky = make_initiative(org, owner, Status.IN_PROGRESS, title="Running late")
    services.post_update(initiative=risky, actor=owner, health="off_track", text="Supplier gone.")
    calm = make_initiative(org, owner, Status.IN_PROGRESS, title="Running fine")
    make_initiative(org, owner, title="Just an idea")
    meeting = make_meeting(org)
    services.build_agenda(meeting)
    agenda = [(a.initiative_id, a.kind) for a in meeting.agenda.all()]
    assert agenda == [
        (first.pk, AgendaItem.Kind.NEW),
        (second.pk, AgendaItem.Kind.NEW),
        (high.pk, AgendaItem.Kind.NEW),
        (low.pk, AgendaItem.Kind.NEW),
        (deferred.pk, AgendaItem.Kind.DEFERRED),
        (risky.pk, AgendaItem.Kind.AT_RISK),
    ]
    assert calm.pk not in dict(agenda)
    assert first.priority == 1


@pytest.mark.django_db
def test_the_agenda_is_mailed_to_the_board_once_a_week_ahead(ny_org, owner, member, smtp_server):
    org = ny_org
    executive, outsider_of_board = member(Role.EXECUTIVE), member(Role.UNIT_LEADER)
    services.set_board_members(organization=org, actor=owner, memberships=[owner, executive])
    ranked = make_initiative(org, owner, Status.RANKED, title="Project kick-off pack")
    now = datetime(2026, 11, 23, 12, tzinfo=UTC)  # the 1 December board is 8 days away
    assert services.board_sweep(org, now)["mailed"] == 0
    assert smtp_server.messages == []
    assert services.board_sweep(org, now + timedelta(days=1, hours=3))["mailed"] == 2
    assert services.board_sweep(org, now + timedelta(days=1, hours=4))["mailed"] == 0
    assert len(smtp_server.messages) == 1
    message = smtp_server.messages[0]
    assert sorted(message["to"]) == sorted([owner.user.email, executive.user.email])
    assert outsider_of_board.user.email not in message["to"]
    text = smtp_server.text(message["message"])
    assert message["message"]["Subject"] == "Change board agenda, 1 December 2026"
    assert "Tuesday 1 December 2026 at 10:00 EST" in text
    assert f"1. {ranked.code} Project kick-off pack (To decide, priority 1)" in text


@pytest.mark.django_db
def test_limits_count_the_month_and_the_fiscal_quarter(ny_org, owner, member):
    org = ny_org
    org.fiscal_year_start_month = 7
    org.save()
    executive = member(Role.EXECUTIVE)
    services.set_limits(organization=org, actor=executive, capacity_person_days_per_month=30, budget_per_quarter=10000)
    # An approval at an October board counts for the quarter (Oct-Dec) but not for November's capacity.
    october = make_meeting(org, datetime(2026, 10, 6, 14, tzinfo=UTC))
    make_initiative(
        org, owner, Status.APPROVED, meeting=october, person_days=25, budget=6000, deadline=date(2027, 3, 1)
    )
    november = make_meeting(org, datetime(2026, 11, 3, 15, tzinfo=UTC))
    make_initiative(
        org, owner, Status.APPROVED, meeting=november, person_days=20, budget=3000, deadline=date(2027, 3, 1)
    )
    usage = committed(org, date(2026, 11, 3))
    assert (usage["person_days"], usage["person_days_remaining"]) == (Decimal("20"), Decimal("10"))
    assert (usage["budget"], usage["budget_remaining"]) == (Decimal("9000"), Decimal("1000"))
    candidate = make_initiative(org, owner, Status.RANKED, title="Portal")
    decide = {
        "meeting": november,
        "initiative": candidate,
        "actor": owner,
        "outcome": "approve",
        "deadline": date(2027, 2, 1),
        "owner": owner,
        "person_days": 12,
        "budget": 500,
    }
    with pytest.raises(ValidationError) as caught:
        services.decide(**decide)
    assert caught.value.message_dict["override_reason"] == [
        "This approval takes 12 person-days; 10 remain this month. Give a reason to override the strategy limits."
    ]
    with pytest.raises(ValidationError, match="1,000.00 remain this quarter"):
        services.decide(**{**decide, "person_days": 5, "budget": 1500})
    candidate.refresh_from_db()
    assert candidate.status == Status.RANKED and not Decision.objects.filter(initiative=candidate).exists()
    within = make_initiative(org, owner, Status.RANKED, title="Small fix")
    ok = services.decide(
        **{**decide, "initiative": within, "person_days": Decimal("0.5"), "budget": 0, "override_reason": "not needed"}
    )
    assert ok.override_reason == ""  # within the limits: no override is recorded
    decision = services.decide(**{**decide, "override_reason": "Key client renewal depends on it"})
    assert decision.override_reason == "Key client renewal depends on it"
    assert AuditEvent.objects.filter(verb="board.limits_overridden", target_id=str(candidate.pk)).exists()
    # 20 + 12 + 0.5 = 32.5 used of 30 this month
    assert committed(org, date(2026, 11, 3))["person_days_remaining"] == Decimal("-2.5")
    # Without a capacity limit, only money counts, and an approval that costs nothing never breaks the budget.
    services.set_limits(
        organization=org, actor=executive, capacity_person_days_per_month=None, budget_per_quarter=10000
    )
    free = make_initiative(org, owner, Status.RANKED, title="Free fix")
    with pytest.raises(ValidationError, match="500.00 remain this quarter"):
        services.decide(**{**decide, "initiative": free, "person_days": 1, "budget": 600})
    assert services.decide(**{**decide, "initiative": free, "person_days": 1, "budget": 0}).override_reason == ""


@pytest.mark.django_db
def test_decisions_need_attendance_valid_figures_and_a_waiting_initiative(org, owner):
    meeting = make_meeting(org)
    ranked = make_initiative(org, owner, Status.RANKED)
    with pytest.raises(ValidationError, match="Record who is present"):
        services.decide(meeting=meeting, initiative=ranked, actor=owner, outcome="defer", note="later")
    services.record_attendance(meeting=meeting, actor=owner, present=[owner])
    deadline = timezone.localdate() + timedelta(days=30)
    for figures, field in (
        ({"person_days": -1}, "person_days"),
        ({"person_days": 99999}, "person_days"),
        ({"person_days": 3, "budget": -5}, "budget"),
        ({"person_days": 3, "owner": None}, "owner"),
    ):
        args = {"owner": owner, "budget": 0, **figures}
        with pytest.raises(ValidationError) as caught:
            services.decide(
                meeting=meeting, initiative=ranked, actor=owner, outcome="approve", deadline=deadline, **args
            )
        assert field in caught.value.message_dict
    with pytest.raises(ValidationError, match="deadline must come after the meeting"):
        services.decide(
            meeting=meeting,
            initiative=ranked,
            actor=owner,
            outcome="approve",
            deadline=timezone.localdate() - timedelta(days=1),
            owner=owner,
            person_days=1,
        )
    services.decide(meeting=meeting, initiative=ranked, actor=owner, outcome="defer", note="Wait for the pilot")
    ranked.refresh_from_db()
    assert (ranked.status, ranked.status_note) == (Status.DEFERRED, "Wait for the pilot")
    with pytest.raises(ValidationError, match="already decided at this meeting"):
        services.decide(meeting=meeting, initiative=ranked, actor=owner, outcome="reject", note="no")
    idea = make_initiative(org, owner)
    with pytest.raises(ValidationError, match="not waiting for the board"):
        services.decide(
            meeting=make_meeting(org, timezone.now() + timedelta(days=40)),
            initiative=idea,
            actor=owner,
            outcome="reject",
            note="no",
        )


@pytest.mark.django_db
def test_closing_mails_minutes_with_the_pdf_to_the_board_and_owners(
    org, owner, member, smtp_server, django_capture_on_commit_callbacks
):
    executive, pm = member(Role.EXECUTIVE), member(Role.PROJECT_MANAGER)
    services.set_board_members(organization=org, actor=owner, memberships=[executive])
    meeting = make_meeting(org)
    approved = make_initiative(org, owner, Status.APPROVED, meeting=meeting, owner=pm, title="Site-visit notes")
    with django_capture_on_commit_callbacks(execute=True):
        services.close_meeting(meeting=meeting, actor=owner, notes="Budget review in January.")
    assert len(smtp_server.messages) == 1
    message = smtp_server.messages[0]
    assert sorted(message["to"]) == sorted([executive.user.email, pm.user.email])
    text = smtp_server.text(message["message"])
    assert f"{approved.code} Site-visit notes: Approved" in text and "owner " + pm.user.display_name in text
    attachments = list(message["message"].iter_attachments())
    assert len(attachments) == 1 and attachments[0].get_content_type() == "application/pdf"
    assert attachments[0].get_content().startswith(b"%PDF")
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ValidationError, match="already closed"):
        services.close_meeting(meeting=meeting, actor=owner)
    assert services.mail_minutes(meeting) == 0 and len(smtp_server.messages) == 1
