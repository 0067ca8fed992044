"""Builders for initiatives tests: they go through the services, so the rows are what users would make."""

from datetime import date, timedelta

from django.utils import timezone

from initiatives import services
from initiatives.models import (
    ActionItem,
    Criterion,
    DigestLog,
    Domain,
    HealthUpdate,
    Status,
    TimelineEvent,
)

# The service calls that lead from "submitted" to each status.
PATH = {
    Status.SUBMITTED: [],
    Status.QUALIFIED: ["qualify"],
    Status.DECLINED: ["decline"],
    Status.MERGED: ["merge"],
    Status.RANKED: ["qualify", "score", "rank"],
    Status.APPROVED: ["qualify", "score", "approve"],
    Status.DEFERRED: ["qualify", "score", "defer"],
    Status.REJECTED: ["qualify", "score", "reject"],
    Status.SCHEDULED: ["qualify", "score", "approve", "schedule"],
    Status.IN_PROGRESS: ["qualify", "score", "approve", "schedule", "start"],
    Status.DONE: ["qualify", "score", "approve", "schedule", "start", "dod", "complete"],
    Status.CANCELLED: ["cancel"],
}


def make_meeting(organization, when=None):
    from initiatives.models import Meeting

    when = when or timezone.now() + timedelta(days=3)
    return Meeting.objects.create(organization=organization, scheduled_for=when)


def make_initiative(
    organization,
    actor,
    status=Status.SUBMITTED,
    *,
    title="Call every new client within a week of kick-off",
    horizon="short",
    score=None,
    meeting=None,
    owner=None,
    person_days=5,
    budget=1000,
    deadline=None,
):
    """An initiative in `status`, reached through the real transitions. `actor` needs the CoE's and
    the board's permissions (an admin does)."""
    initiative = services.submit_idea(
        organization=organization, actor=actor, title=title, description="Clients wait too long for a first call."
    )
    owner = owner or actor
    for step in PATH[Status(status)]:
        if step == "qualify":
            initiative = services.qualify(initiative=initiative, actor=actor, horizon=horizon)
        elif step == "decline":
            initiative = services.decline(initiative=initiative, actor=actor, reason="Already covered by onboarding.")
        elif step == "merge":
            other = services.submit_idea(organization=organization, actor=actor, title=f"Original of {title}")
            initiative = services.merge(initiative=initiative, actor=actor, into=other)
        elif step == "score":
            values = score or {"customer_benefit": 8, "business_value": 6, "cost": 2000, "effort_days": 10}
            services.save_score(initiative=initiative, actor=actor, **values)
        elif step == "rank":
            initiative = services.rank(initiative=initiative, actor=actor, priority=1)
        elif step in ("approve", "defer", "reject"):
            meeting = meeting or make_meeting(organization)
            if not meeting.attendance.exists():
                services.record_attendance(meeting=meeting, actor=actor, present=[actor])
            services.decide(
                meeting=meeting,
                initiative=initiative,
                actor=actor,
                outcome=step,
                deadline=deadline or (timezone.localdate() + timedelta(days=90)),
                owner=owner,
                person_days=person_days,
                budget=budget,
                note="Revisit after the pilot.",
                override_reason="Demo override" if step == "approve" else "",
            )
            initiative.refresh_from_db()
        elif step == "schedule":
            initiative = services.schedule(
                initiative=initiative,
                actor=actor,
                target_start=timezone.localdate(),
                target_end=initiative.target_end,
            )
        elif step == "start":
            initiative = services.start(initiative=initiative, actor=actor)
        elif step == "dod":
            item = services.add_checklist_item(initiative=initiative, text="Playbook published", actor=actor)
            services.tick_checklist_item(item=item, done=True, actor=actor)
        elif step == "complete":
            initiative = services.complete(initiative=initiative, actor=actor)
        elif step == "cancel":
            initiative = services.cancel(initiative=initiative, actor=actor, reason="No longer needed.")
    initiative.refresh_from_db()
    return initiative


def populate(organization, people):
    """At least one row of every initiatives model, for the platform's cross-tenant walk."""
    owner = people["owner"]
    domain = Domain.objects.create(organization=organization, name="Onboarding")
    criterion = Criterion.objects.create(organization=organization, name="Client impact", weight=3)
    ranked = make_initiative(organization, owner, Status.RANKED, title="Kick-off call script")
    qualified = make_initiative(organization, owner, Status.QUALIFIED, title="Invoice explainer")
    services.save_score(
        initiative=qualified,
        actor=owner,
        customer_benefit=5,
        business_value=5,
        cost=100,
        effort_days=3,
        criteria={criterion.pk: 7},
    )
    qualified.domain = domain
    qualified.save()
    delivered = make_initiative(organization, owner, Status.IN_PROGRESS, title="Project portal", owner=people["cx_coe"])
    services.add_dependency(initiative=delivered, blocker=ranked, actor=owner)
    services.add_team_member(initiative=delivered, membership=people["staff"], actor=owner, role="Designer")
    services.add_checklist_item(initiative=delivered, text="Portal live for three clients", actor=owner)
    services.post_update(initiative=delivered, actor=owner, health="at_risk", text="Waiting for IT access.")
    services.add_action_item(
        initiative=delivered, actor=owner, title="Book IT", owner=people["staff"], due_on=date.today() + timedelta(7)
    )
    round_ = services.open_round(
        organization=organization,
        actor=owner,
        title="Next quarter",
        initiatives=[ranked, qualified],
        stakeholders=[people["executive"], owner],
        closes_at=timezone.now() + timedelta(days=5),
    )
    services.submit_ballot(round_=round_, actor=people["executive"], order=[qualified.pk, ranked.pk])
    services.set_board_members(organization=organization, actor=owner, memberships=[people["executive"], owner])
    meeting = make_meeting(organization, timezone.now() + timedelta(days=10))
    services.build_agenda(meeting)
    DigestLog.objects.create(organization=organization, membership=owner, week_of=date(2026, 1, 5))
    assert TimelineEvent.objects.for_org(organization).exists()
    assert HealthUpdate.objects.for_org(organization).exists() and ActionItem.objects.for_org(organization).exists()
