"""The status flow: each transition's rules, refusals that change nothing, codes, timeline and audit."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from cxprogram.audit.models import AuditEvent
from cxprogram.tenancy.permissions import Role
from initiatives import services
from initiatives.models import CodeCounter, Initiative, Status
from initiatives.selectors import ideas_generated
from tests.factories import make_org
from tests.initiatives.factories import make_initiative

pytestmark = pytest.mark.django_db


def test_codes_count_up_per_organization(org, owner, other_org, outsider):
    first = services.submit_idea(organization=org, actor=owner, title="Shorter proposals")
    second = services.submit_idea(organization=org, actor=owner, title="Client portal")
    elsewhere = services.submit_idea(organization=other_org, actor=outsider, title="Theirs")
    assert (first.code, second.code, elsewhere.code) == ("CX-001", "CX-002", "CX-001")
    assert CodeCounter.objects.get(organization=org).last_number == 2


def test_any_member_submits_an_idea_and_it_counts_as_generated(org, teammate):
    before = timezone.now()
    idea = services.submit_idea(organization=org, actor=teammate, title="Send a site-visit summary the same day")
    assert (idea.status, idea.submitted_by, idea.source) == (Status.SUBMITTED, teammate, "staff_idea")
    assert idea.timeline.get().text == "Submitted as an idea."
    assert AuditEvent.objects.filter(verb="initiative.submitted", target_id=str(idea.pk)).exists()
    assert ideas_generated(org, before, timezone.now() + timedelta(seconds=1)) == 1
    assert ideas_generated(org, before - timedelta(days=2), before) == 0
    assert ideas_generated(make_org(), before, timezone.now()) == 0


def test_a_title_is_needed(org, teammate):
    with pytest.raises(ValidationError) as caught:
        services.submit_idea(organization=org, actor=teammate, title="   ")
    assert "title" in caught.value.message_dict and not Initiative.objects.exists()


def test_the_whole_happy_path_leaves_a_timeline(org, owner):
    done = make_initiative(org, owner, Status.DONE)
    assert done.status == Status.DONE
    texts = list(done.timeline.order_by("created_at", "pk").values_list("text", flat=True))
    assert texts[0] == "Submitted as an idea." and texts[-1].startswith("Marked done")
    approved = next(t for t in texts if t.startswith("Approved by the change board"))
    assert approved.endswith(", 5 person-days, budget 1,000.")  # grouped, as the pages write money
    start, end = done.target_start, done.target_end
    assert f"Scheduled from {start.day} {start:%b %Y} to {end.day} {end:%b %Y}." in texts  # not 2026-11-03
    verbs = set(AuditEvent.objects.filter(target_id=str(done.pk)).values_list("verb", flat=True))
    assert {
        "initiative.qualify",
        "initiative.approve",
        "initiative.schedule",
        "initiative.start",
        "initiative.complete",
    } <= verbs


@pytest.mark.parametrize(
    ("status", "call", "kwargs"),
    [
        (Status.SUBMITTED, services.start, {}),
        (Status.SUBMITTED, services.schedule, {"target_start": None, "target_end": None}),
        (Status.QUALIFIED, services.qualify, {}),
        (Status.QUALIFIED, services.complete, {}),
        (Status.RANKED, services.decline, {"reason": "no"}),
        (Status.APPROVED, services.start, {}),
        (Status.DONE, services.cancel, {"reason": "too late"}),
        (Status.CANCELLED, services.qualify, {}),
        (Status.DECLINED, services.rank, {"priority": 1}),
    ],
)
def test_illegal_transitions_are_refused_and_change_nothing(org, owner, status, call, kwargs):
    initiative = make_initiative(org, owner, status)
    events = initiative.timeline.count()
    with pytest.raises(ValidationError) as caught:
        call(initiative=initiative, actor=owner, **kwargs)
    assert f"{initiative.code} is {Status(status).label.lower()}, so it cannot be" in caught.value.messages[0]
    initiative.refresh_from_db()
    assert initiative.status == status and initiative.timeline.count() == events


def test_qualifying_needs_a_description_and_a_horizon(org, owner):
    idea = services.submit_idea(organization=org, actor=owner, title="Bare idea")
    with pytest.raises(ValidationError) as caught:
        services.qualify(initiative=idea, actor=owner, horizon="mid")
    assert "description" in caught.value.message_dict
    idea.description = "Clients cannot find the latest drawings."
    idea.save()
    with pytest.raises(ValidationError) as caught:
        services.qualify(initiative=idea, actor=owner)
    assert "horizon" in caught.value.message_dict
    assert services.qualify(initiative=idea, actor=owner, horizon="mid").status == Status.QUALIFIED


def test_only_the_coe_qualifies(org, owner, teammate):
    idea = make_initiative(org, owner)
    with pytest.raises(PermissionDenied):
        services.qualify(initiative=idea, actor=teammate, horizon="short")


def test_decline_and_cancel_need_a_reason(org, owner):
    idea = make_initiative(org, owner)
    with pytest.raises(ValidationError, match="Give a reason"):
        services.decline(initiative=idea, actor=owner, reason=" ")
    declined = services.decline(initiative=idea, actor=owner, reason="Covered by CX-001")
    assert (declined.status, declined.status_note) == (Status.DECLINED, "Covered by CX-001")
    with pytest.raises(ValidationError, match="Give a reason"):
        services.cancel(initiative=make_initiative(org, owner, Status.QUALIFIED), actor=owner, reason="")


def test_merge_links_the_duplicate_to_the_original(org, owner):
    original = make_initiative(org, owner, Status.QUALIFIED, title="Weekly project emails")
    duplicate = make_initiative(org, owner, title="Send weekly updates")
    with pytest.raises(ValidationError, match="into itself"):
        services.merge(initiative=duplicate, actor=owner, into=duplicate)
    merged = services.merge(initiative=duplicate, actor=owner, into=original)
    assert (merged.status, merged.merged_into) == (Status.MERGED, original)
    assert original.timeline.filter(text__contains=f"{duplicate.code} “Send weekly updates” was merged").exists()
    with pytest.raises(ValidationError, match="merge into an open one"):
        services.merge(initiative=make_initiative(org, owner), actor=owner, into=merged)


def test_ranking_needs_a_score(org, owner):
    qualified = make_initiative(org, owner, Status.QUALIFIED)
    with pytest.raises(ValidationError, match="Score it before ranking"):
        services.rank(initiative=qualified, actor=owner, priority=2)
    services.save_score(initiative=qualified, actor=owner, customer_benefit=3, business_value=3, cost=0, effort_days=1)
    ranked = services.rank(initiative=qualified, actor=owner, priority=2)
    assert (ranked.status, ranked.priority) == (Status.RANKED, 2)


def test_scheduling_needs_dates_within_the_board_deadline(org, owner):
    deadline = timezone.localdate() + timedelta(days=60)
    approved = make_initiative(org, owner, Status.APPROVED, deadline=deadline)
    assert (approved.owner, approved.target_end) == (owner, deadline)
    today = timezone.localdate()
    with pytest.raises(ValidationError, match="deadline"):
        services.schedule(initiative=approved, actor=owner, target_start=today, target_end=deadline + timedelta(1))
    with pytest.raises(ValidationError, match="before the target start"):
        services.schedule(initiative=approved, actor=owner, target_start=today, target_end=today - timedelta(1))
    scheduled = services.schedule(initiative=approved, actor=owner, target_start=today, target_end=deadline)
    assert scheduled.status == Status.SCHEDULED


def test_done_needs_every_definition_of_done_item_ticked(org, owner):
    running = make_initiative(org, owner, Status.IN_PROGRESS)
    with pytest.raises(ValidationError, match="Write the definition of done first"):
        services.complete(initiative=running, actor=owner)
    first = services.add_checklist_item(initiative=running, text="Survey shows clients find drawings", actor=owner)
    services.add_checklist_item(initiative=running, text="Training given", actor=owner)
    services.tick_checklist_item(item=first, done=True, actor=owner)
    with pytest.raises(
        ValidationError, match="1 item\\(s\\) of the definition of done are not ticked yet: Training given"
    ):
        services.complete(initiative=running, actor=owner)
    running.refresh_from_db()
    assert running.status == Status.IN_PROGRESS


def test_starting_waits_for_dependencies(org, owner):
    blocker = make_initiative(org, owner, Status.SCHEDULED, title="Client portal")
    waiting = make_initiative(org, owner, Status.SCHEDULED, title="Portal training")
    services.add_dependency(initiative=waiting, blocker=blocker, actor=owner)
    with pytest.raises(ValidationError, match=f"depends on {blocker.code}"):
        services.start(initiative=waiting, actor=owner)
    services.start(initiative=blocker, actor=owner)
    assert services.start(initiative=waiting, actor=owner).status == Status.IN_PROGRESS


def test_dependency_cycles_are_refused_with_the_chain(org, owner):
    a, b, c = (make_initiative(org, owner, Status.QUALIFIED, title=t) for t in "ABC")
    services.add_dependency(initiative=a, blocker=b, actor=owner)  # A waits for B
    services.add_dependency(initiative=b, blocker=c, actor=owner)  # B waits for C
    with pytest.raises(ValidationError) as caught:
        services.add_dependency(initiative=c, blocker=a, actor=owner)  # C waits for A: a loop
    message = caught.value.message_dict["blocker"][0]
    assert f"{a.code} already waits for {c.code} ({a.code} → {b.code} → {c.code})" in message
    with pytest.raises(ValidationError, match="cannot depend on itself"):
        services.add_dependency(initiative=a, blocker=a, actor=owner)
    with pytest.raises(ValidationError, match="already depends"):
        services.add_dependency(initiative=a, blocker=b, actor=owner)
    assert c.blocked_by_links.count() == 0


def test_the_owner_steers_delivery_but_other_staff_cannot(org, owner, member):
    pm = member(Role.PROJECT_MANAGER)
    running = make_initiative(org, owner, Status.IN_PROGRESS, owner=pm)
    services.add_checklist_item(initiative=running, text="Done", actor=pm)
    with pytest.raises(PermissionDenied):
        services.add_checklist_item(initiative=running, text="Sneaky", actor=member(Role.STAFF))


def test_kanban_moves_use_the_same_rules(org, owner):
    qualified = make_initiative(org, owner, Status.QUALIFIED)
    with pytest.raises(ValidationError, match="change board decides"):
        services.move_to(initiative=qualified, actor=owner, status=Status.APPROVED)
    with pytest.raises(ValidationError, match="Score it before ranking"):
        services.move_to(initiative=qualified, actor=owner, status=Status.RANKED)
    services.save_score(initiative=qualified, actor=owner, customer_benefit=3, business_value=3, cost=0, effort_days=1)
    moved = services.move_to(initiative=qualified, actor=owner, status=Status.RANKED)
    assert moved.status == Status.RANKED and moved.priority == 1
