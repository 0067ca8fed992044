"""Demo initiatives for Harborview Design Group: a backlog of client-experience work across every status
and horizon, scored; a closed and an open ranking round; two past change boards with minutes and the next
one with its agenda; action items (some overdue) and weekly updates. Everything goes through the services."""

from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils import timezone

from feedback.models import FollowUpCase

from . import services
from .models import ActionItem, Criterion, Initiative, Meeting, Status, TimelineEvent
from .schedule import add_months, next_meeting_at

DOMAINS = ["Onboarding", "Communication", "Billing", "Delivery", "Handover"]

# (title, domain, horizon, final status, submitter, owner, benefit, value, cost, person-days, description)
BACKLOG = [
    (
        "Welcome pack at every project kick-off",
        "Onboarding",
        "short",
        Status.DONE,
        "project_manager",
        "project_manager",
        8,
        5,
        4000,
        6,
        "New clients meet a dozen people in the first month and do not know who does what. A short pack "
        "with the team, the phases and who to call fixes that.",
    ),
    (
        "One named contact in every proposal",
        "Communication",
        "short",
        Status.DONE,
        "staff",
        "cx_coe",
        7,
        6,
        500,
        3,
        "Clients tell us they are passed from person to person. Each proposal names the person who "
        "answers for the project.",
    ),
    (
        "Plain-language cover note on invoices",
        "Billing",
        "short",
        Status.DONE,
        "executive_2",
        "executive_2",
        6,
        6,
        1500,
        4,
        "Invoices list task codes clients cannot read. A cover note says what was done this period and "
        "what comes next.",
    ),
    (
        "Monthly status email to client sponsors",
        "Communication",
        "short",
        Status.IN_PROGRESS,
        "unit_leader",
        "project_manager",
        8,
        7,
        2000,
        8,
        "Sponsors hear from us only when something goes wrong. A monthly note on progress, decisions "
        "needed and risks keeps them close.",
    ),
    (
        "Client portal for drawings and RFIs",
        "Delivery",
        "long",
        Status.IN_PROGRESS,
        "cx_coe",
        "project_manager_2",
        9,
        8,
        60000,
        90,
        "Clients dig through email for the latest drawings and RFI answers. One portal per project "
        "gives them the current set and the log.",
    ),
    (
        "Site-visit summary within 24 hours",
        "Delivery",
        "short",
        Status.IN_PROGRESS,
        "staff",
        "project_manager_2",
        7,
        4,
        0,
        5,
        "After site visits clients wait a week for notes. A one-page summary with photos goes out the next day.",
    ),
    (
        "Change-order pre-approval checklist",
        "Billing",
        "mid",
        Status.IN_PROGRESS,
        "executive_2",
        "executive_2",
        6,
        8,
        3000,
        12,
        "Unexpected change orders are the first cause of detractor scores on construction administration.",
    ),
    (
        "Post-occupancy check-in at six months",
        "Handover",
        "mid",
        Status.IN_PROGRESS,
        "unit_leader",
        "unit_leader",
        7,
        7,
        5000,
        10,
        "Six months after handover we ask how the building works for its users and fix what we can.",
    ),
    (
        "One-page decision log for design reviews",
        "Delivery",
        "mid",
        Status.SCHEDULED,
        "project_manager",
        "project_manager",
        6,
        5,
        0,
        6,
        "Design review meetings end without a shared record; decisions get reopened months later.",
    ),
    (
        "Closeout binder with manuals and warranties",
        "Handover",
        "short",
        Status.SCHEDULED,
        "staff",
        "unit_leader",
        6,
        4,
        2500,
        5,
        "Facility teams cannot find operation and maintenance manuals at handover.",
    ),
    (
        "Invoice disputes answered in three business days",
        "Billing",
        "short",
        Status.SCHEDULED,
        "cx_coe",
        "executive_2",
        8,
        7,
        0,
        4,
        "Disputed invoices sit for weeks and sour otherwise good projects.",
    ),
    (
        "Client advisory panel for healthcare clients",
        "Communication",
        "long",
        Status.APPROVED,
        "lead_executive",
        "lead_executive",
        7,
        9,
        25000,
        30,
        "Twice a year, hospital facility leaders tell us what is changing in their world and how we should adapt.",
    ),
    (
        "Published response time for RFIs",
        "Delivery",
        "mid",
        Status.APPROVED,
        "project_manager_2",
        "project_manager_2",
        8,
        6,
        0,
        8,
        "Contractors and owners want to know when an RFI will be answered. We publish and track a standard.",
    ),
    (
        "Kick-off call script for project managers",
        "Onboarding",
        "short",
        Status.APPROVED,
        "project_manager",
        "cx_coe",
        6,
        5,
        0,
        3,
        "New project managers run kick-off calls very differently; a script makes sure expectations are "
        "set the same way.",
    ),
    (
        "Fee proposal walkthrough meeting",
        "Billing",
        "mid",
        Status.RANKED,
        "executive_2",
        None,
        7,
        8,
        1000,
        6,
        "Walk the client through the fee proposal in person instead of sending a PDF.",
    ),
    (
        "Shared calendar of key client dates",
        "Communication",
        "short",
        Status.RANKED,
        "staff",
        None,
        5,
        4,
        0,
        3,
        "Board meetings, funding deadlines and move-in dates of our clients, visible to the whole project team.",
    ),
    (
        "Lessons-learned session with the client at closeout",
        "Handover",
        "mid",
        Status.RANKED,
        "unit_leader",
        None,
        7,
        6,
        500,
        5,
        "We hold lessons-learned sessions internally; the client's view is missing.",
    ),
    (
        "Feedback request after each design phase",
        "Communication",
        "short",
        Status.RANKED,
        "cx_coe",
        None,
        8,
        7,
        0,
        4,
        "Asking at the end of the project is too late to fix anything. Ask at the end of each phase.",
    ),
    (
        "Weekly photo log during construction",
        "Delivery",
        "mid",
        Status.RANKED,
        "project_manager_2",
        None,
        6,
        5,
        2000,
        10,
        "Owners far from site want to see progress every week.",
    ),
    (
        "Accessible client-facing documents",
        "Communication",
        "long",
        Status.QUALIFIED,
        "staff",
        None,
        6,
        6,
        8000,
        20,
        "Reports and presentations that work with screen readers and print well in black and white.",
    ),
    (
        "Onboarding guide for transit agencies",
        "Onboarding",
        "mid",
        Status.QUALIFIED,
        "project_manager_2",
        None,
        7,
        7,
        3000,
        8,
        "Transit agencies have their own procurement and review steps; a guide written for them saves weeks.",
    ),
    (
        "Presentation templates for water utility boards",
        "Communication",
        "mid",
        Status.QUALIFIED,
        "project_manager_2",
        None,
        5,
        6,
        1000,
        4,
        "Utility boards see our work in short public sessions; the slides must make sense to residents too.",
    ),
    (
        "Project budget dashboard for client owners",
        "Billing",
        "long",
        Status.QUALIFIED,
        "executive",
        None,
        8,
        8,
        40000,
        60,
        "Owners ask where the fee stands every month; a dashboard answers before they ask.",
    ),
    (
        "Warranty walk-through booked at handover",
        "Handover",
        "short",
        Status.QUALIFIED,
        "unit_leader",
        None,
        6,
        5,
        0,
        2,
        "Book the eleven-month warranty walk-through with the client on the day of handover.",
    ),
    (
        "Emergency line for active construction sites",
        "Delivery",
        "long",
        Status.DEFERRED,
        "executive",
        None,
        6,
        5,
        30000,
        45,
        "A phone line answered around the clock while we administer construction.",
    ),
    (
        "Client-satisfaction bonus for project teams",
        "Communication",
        "long",
        Status.DEFERRED,
        "lead_executive",
        None,
        5,
        6,
        50000,
        15,
        "Tie part of the yearly bonus to the team's client scores.",
    ),
    (
        "Text alerts before site inspections",
        "Delivery",
        "short",
        Status.SUBMITTED,
        "staff",
        None,
        0,
        0,
        0,
        0,
        "Owners' facility staff want a text the day before we inspect.",
    ),
    (
        "Translated proposals for international clients",
        "Onboarding",
        "mid",
        Status.SUBMITTED,
        "project_manager",
        None,
        0,
        0,
        0,
        0,
        "Two clients asked for proposals in Spanish this year.",
    ),
    (
        "Quarterly newsletter for school districts",
        "Communication",
        "mid",
        Status.SUBMITTED,
        "staff",
        None,
        0,
        0,
        0,
        0,
        "Facilities directors in K-12 would like to hear about funding and design trends from us.",
    ),
    (
        "Video walkthroughs of the design model",
        "Delivery",
        "short",
        Status.SUBMITTED,
        "project_manager_2",
        None,
        0,
        0,
        0,
        0,
        "A three-minute video of the model helps client committees who cannot read drawings.",
    ),
    (
        "Name badges for client site visits",
        "Delivery",
        "short",
        Status.SUBMITTED,
        "staff",
        None,
        0,
        0,
        0,
        0,
        "Client staff do not know who our people are on site.",
    ),
    (
        "Replace email with a chat app for all clients",
        "Communication",
        "short",
        Status.DECLINED,
        "staff",
        None,
        0,
        0,
        0,
        0,
        "Everyone on one chat channel instead of email.",
    ),
    (
        "Weekly status email to every client",
        "Communication",
        "short",
        Status.MERGED,
        "project_manager",
        None,
        0,
        0,
        0,
        0,
        "Send a status email every week.",
    ),
    (
        "Branded gifts for every client at kick-off",
        "Onboarding",
        "short",
        Status.REJECTED,
        "staff",
        None,
        3,
        2,
        12000,
        4,
        "Mugs and notebooks with our logo for everyone at the client.",
    ),
    (
        "Printed project binders for every meeting",
        "Delivery",
        "short",
        Status.CANCELLED,
        "project_manager",
        None,
        3,
        2,
        6000,
        8,
        "Print a full binder for each client meeting.",
    ),
]
DELIVERY = {Status.APPROVED, Status.SCHEDULED, Status.IN_PROGRESS, Status.DONE}
# Decided at the older of the two past boards; the rest of the decided ones at the later board.
FIRST_BOARD = {0, 1, 2, 3, 4, 5, 6, 7, 24, 33}


def _past_boards(organization, now):
    """The two most recent board dates before now, on the organization's schedule and time zone."""
    program = services.program_for(organization)
    local = timezone.localtime(now, organization.tz)
    dates = []
    for months_back in (3, 2, 1, 0):
        first_day = add_months(date(local.year, local.month, 1), -months_back)
        after = datetime.combine(first_day, time.min, tzinfo=organization.tz)
        when = next_meeting_at(after, organization.tz, program.board_weekday, program.board_week, program.board_time)
        if when < now:
            dates.append(when)
    return [Meeting.objects.create(organization=organization, scheduled_for=when) for when in dates[-2:]]


def _decide(meeting, initiative, actor, **kwargs):
    try:
        return services.decide(meeting=meeting, initiative=initiative, actor=actor, **kwargs)
    except ValidationError as error:
        if "override_reason" not in getattr(error, "message_dict", {}):
            raise
        return services.decide(
            meeting=meeting,
            initiative=initiative,
            actor=actor,
            override_reason="A hospital client's renewal depends on it; the CFO agreed to fund it from Q-next.",
            **kwargs,
        )


def seed(organization, people: dict) -> None:
    now = timezone.now()
    today = timezone.localtime(now, organization.tz).date()
    coe, ceo, cfo = people["cx_coe"], people["lead_executive"], people["executive_2"]
    domains = {name: services.save_domain(organization=organization, actor=coe, name=name) for name in DOMAINS}
    for name, weight in (("Client retention", 3), ("Fee growth", 2), ("Staff time saved", 1)):
        Criterion.objects.create(organization=organization, name=name, weight=weight)
    services.set_board_members(
        organization=organization,
        actor=coe,
        memberships=[coe, ceo, people["executive"], cfo, people["unit_leader"]],
    )
    services.set_limits(
        organization=organization, actor=ceo, capacity_person_days_per_month=150, budget_per_quarter=100000
    )
    boards = _past_boards(organization, now)
    for board in boards:
        services.record_attendance(meeting=board, actor=coe, present=[coe, ceo, cfo, people["unit_leader"]])
    case = FollowUpCase.objects.for_org(organization).order_by("pk").first()

    initiatives = []
    for index, (title, domain, horizon, status, by, owner, benefit, value, cost, effort, text) in enumerate(BACKLOG):
        initiative = services.submit_idea(
            organization=organization,
            actor=people[by],
            title=title,
            description=text,
            domain=domains[domain],
            source="client_feedback" if index == 10 and case else "staff_idea",
            case=case if index == 10 else None,
            source_reference="Raised from a follow-up case" if index == 10 and case else "",
        )
        initiatives.append(initiative)
        if status == Status.SUBMITTED:
            continue
        if status == Status.DECLINED:
            services.decline(
                initiative=initiative, actor=coe, reason="Clients told us they prefer email for anything formal."
            )
            continue
        if status == Status.MERGED:
            services.merge(initiative=initiative, actor=coe, into=initiatives[3])
            continue
        if status == Status.CANCELLED:
            services.qualify(initiative=initiative, actor=coe, horizon=horizon)
            services.cancel(
                initiative=initiative, actor=coe, reason="The client portal makes printed binders unnecessary."
            )
            continue
        services.qualify(initiative=initiative, actor=coe, horizon=horizon)
        services.save_score(
            initiative=initiative,
            actor=coe,
            customer_benefit=benefit,
            business_value=value,
            cost=cost,
            effort_days=effort,
            confidence=90 if status in DELIVERY else 70,
            reach=40 + 15 * benefit,
            impact=Decimal("2") if benefit >= 8 else Decimal("1"),
            criteria={
                c.pk: min(10, v)
                for c, v in zip(
                    Criterion.objects.for_org(organization), (benefit, value, 10 - effort // 10), strict=True
                )
            },
        )
        if status in DELIVERY | {Status.DEFERRED, Status.REJECTED}:
            board = boards[0] if index in FIRST_BOARD else boards[1]
            board_day = timezone.localtime(board.scheduled_for, organization.tz).date()
            if status == Status.DEFERRED:
                _decide(
                    board,
                    initiative,
                    coe,
                    outcome="defer",
                    note="Revisit once the portal is live and we know the support load.",
                )
            elif status == Status.REJECTED:
                _decide(
                    board,
                    initiative,
                    coe,
                    outcome="reject",
                    note="Does not move any charter metric; spend it on the welcome pack.",
                )
            else:
                _decide(
                    board,
                    initiative,
                    coe,
                    outcome="approve",
                    owner=people[owner],
                    deadline=board_day + timedelta(days=30 + 4 * effort),
                    person_days=effort,
                    budget=cost,
                )
        initiative.refresh_from_db()
        if status in (Status.SCHEDULED, Status.IN_PROGRESS, Status.DONE):
            start = max(today - timedelta(days=40), timezone.localtime(boards[0].scheduled_for, organization.tz).date())
            services.schedule(initiative=initiative, actor=coe, target_start=start, target_end=initiative.target_end)
            for item in (
                "Agreed with two pilot clients",
                "Guide written for project teams",
                "Shown at the unit meeting",
            ):
                services.add_checklist_item(initiative=initiative, text=item, actor=coe)
        if status in (Status.IN_PROGRESS, Status.DONE):
            services.start(initiative=initiative, actor=coe)
        if status == Status.DONE:
            for item in initiative.checklist.all():
                services.tick_checklist_item(item=item, done=True, actor=coe)
            services.complete(initiative=initiative, actor=coe)

    _delivery_details(organization, people, initiatives, today)
    _ranking_rounds(organization, people, initiatives, now)
    for board in boards:
        services.close_meeting(meeting=board, actor=coe, notes="Capacity is tight until the portal launches.")
        Meeting.objects.filter(pk=board.pk).update(held_at=board.scheduled_for + timedelta(hours=2))
    upcoming = services.ensure_next_meeting(organization, now)
    services.build_agenda(upcoming)
    # Ideas arrived over the past months, not all today (the "ideas generated" metric reads created_at).
    for age, initiative in zip(range(len(initiatives) * 6, 0, -6), initiatives, strict=True):
        submitted = now - timedelta(days=age)
        Initiative.objects.filter(pk=initiative.pk).update(created_at=submitted)
        _spread_timeline(initiative, submitted, now)


def _spread_timeline(initiative, submitted, now) -> None:
    """Date an initiative's timeline as it would have happened rather than all at the minute of the seed:
    what came before the board's decision between the idea's day and the meeting, the decision at the
    meeting, the rest between the meeting and now."""
    events = list(initiative.timeline.order_by("created_at", "pk"))
    decision = initiative.decisions.select_related("meeting").order_by("meeting__scheduled_for").first()
    board = max(decision.meeting.scheduled_for, submitted) if decision else now
    decided = next((n for n, e in enumerate(events) if "by the change board" in e.text), len(events))
    for n, event in enumerate(events):
        if n < decided:
            event.created_at = submitted + (board - submitted) * n / max(decided, 1)
        else:
            event.created_at = board + (now - board) * (n - decided) / (len(events) - decided)
    TimelineEvent.objects.bulk_update(events, ["created_at"])


def _delivery_details(organization, people, initiatives, today):
    coe = people["cx_coe"]
    portal, status_email, site_notes, change_orders, check_in = (
        initiatives[4],
        initiatives[3],
        initiatives[5],
        initiatives[6],
        initiatives[7],
    )
    services.add_dependency(initiative=initiatives[12], blocker=portal, actor=coe)
    services.add_dependency(initiative=initiatives[9], blocker=check_in, actor=coe)
    services.add_dependency(initiative=initiatives[15], blocker=status_email, actor=coe)
    services.add_team_member(initiative=portal, membership=people["staff"], actor=coe, role="BIM coordinator")
    services.add_team_member(initiative=portal, membership=people["project_manager"], actor=coe, role="Pilot project")
    updates = [
        (
            portal,
            [
                ("on_track", "Vendor shortlist done."),
                ("at_risk", "IT security review takes longer than planned."),
                ("at_risk", "Security review passed with conditions; pilot slips two weeks."),
            ],
        ),
        (
            change_orders,
            [("at_risk", "Checklist drafted; contractors push back."), ("off_track", "Two pilot projects paused it.")],
        ),
        (
            status_email,
            [("on_track", "Template agreed with two sponsors."), ("on_track", "Sent on four projects this month.")],
        ),
        (site_notes, [("on_track", "Photo template ready.")]),
        (check_in, [("on_track", "First three buildings booked.")]),
    ]
    for initiative, notes in updates:
        for weeks_ago, (health, text) in zip(range(len(notes) - 1, -1, -1), notes, strict=True):
            services.post_update(
                initiative=initiative, actor=coe, health=health, text=text, today=today - timedelta(weeks=weeks_ago)
            )
    items = [
        (portal, "Sign the hosting agreement", "executive_2", -9),
        (portal, "Load drawings of the Mercy Regional project", "project_manager", 6),
        (portal, "Train two pilot clients", "project_manager_2", 20),
        (status_email, "Add the email to the project start checklist", "project_manager", -3),
        (status_email, "Collect sponsor reactions", "cx_coe", 10),
        (site_notes, "Share the photo template with field staff", "staff", 2),
        (change_orders, "Review the checklist with two contractors", "executive_2", -14),
        (check_in, "Book the Lakeside clinic check-in", "unit_leader", 12),
        (initiatives[9], "Collect O&M manuals from consultants", "staff", 25),
        (initiatives[11], "Invite six healthcare facility leaders", "lead_executive", 18),
    ]
    for initiative, title, owner, days in items:
        services.add_action_item(
            initiative=initiative, actor=coe, title=title, owner=people[owner], due_on=today + timedelta(days=days)
        )
    ActionItem.objects.filter(initiative=status_email, title__startswith="Add the email").update(
        status=ActionItem.State.DONE, done_at=timezone.now()
    )


def _ranking_rounds(organization, people, initiatives, now):
    coe = people["cx_coe"]
    ranked = initiatives[14:19]
    voters = [people[k] for k in ("lead_executive", "executive", "executive_2", "unit_leader")]
    closed = services.open_round(
        organization=organization,
        actor=coe,
        title="Priorities for the next two quarters",
        initiatives=ranked,
        stakeholders=voters,
        closes_at=now + timedelta(days=7),
        now=now - timedelta(days=20),
    )
    ids = [i.pk for i in ranked]  # fee walkthrough, calendar, lessons learned, feedback per phase, photo log
    orders = [[3, 0, 2, 4, 1], [3, 2, 0, 1, 4], [0, 3, 2, 4, 1], [3, 2, 4, 0, 1]]
    for voter, order in zip(voters, orders, strict=True):
        services.submit_ballot(round_=closed, actor=voter, order=[ids[i] for i in order], now=now - timedelta(days=15))
    services.close_round(round_=closed, actor=coe, now=now - timedelta(days=13))
    services.open_round(
        organization=organization,
        actor=coe,
        title="Qualified ideas for the next board",
        initiatives=initiatives[19:24],
        stakeholders=[people["executive"], people["unit_leader"], people["project_manager"]],
        closes_at=now + timedelta(days=5),
    )
