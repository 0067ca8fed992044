"""Demo charters for Harborview Design Group: the program charter, signed and in force (with its
full desired-behaviors matrix), a CX Center of Excellence team charter in draft, acknowledgments
and behavior call-outs."""

import math
from datetime import timedelta

from django.utils import timezone

from . import services
from .models import Callout

PROGRAM = {
    "from_text": "Morgan Reyes, Chief Executive Officer, on behalf of the executive team",
    "purpose": (
        "Harborview designs buildings and infrastructure that communities rely on for decades. "
        "We can only do that well if we understand what each client is trying to achieve, what worries "
        "them, and how working with us feels, and if we act on what we learn."
    ),
    "cause_for_action": (
        "Nearly two thirds of our fee income comes from a handful of public agencies whose budgets move "
        "with every election cycle. Repeat work and referrals from private healthcare, education and "
        "water clients are the fastest way to a steadier pipeline. Those clients choose firms they trust "
        "to listen: when they do not come back, we rarely learn why.\n\n"
        "A steadier pipeline means steadier teams, fewer rushed hires, and more time for the work we are proud of."
    ),
    "cultural_impact": (
        "Good experiences are built by people who have good experiences themselves. Asking clients how we "
        "are doing, and showing them what changed, makes it normal to ask each other the same question. "
        "We want every studio to treat feedback as information, never as blame."
    ),
    "employee_engagement": (
        "Project teams hear early when something is going wrong, while it can still be fixed; good work is "
        "named and credited across the firm; and the ideas people raise are tracked to a decision."
    ),
    "client_engagement": (
        "Clients get a short, predictable way to tell us what matters, a named person who follows up "
        "within days, and a yearly note on what we changed because of them."
    ),
    "phases": [
        {
            "name": "Listening baseline",
            "status": "done",
            "description": "Interviews with thirty-five clients across both divisions set the starting point.",
        },
        {
            "name": "Pilot on live projects",
            "status": "done",
            "description": "Twelve project managers asked their clients for feedback at two milestones.",
        },
        {
            "name": "Continuous feedback on every project",
            "status": "current",
            "description": "Every active project asks at kickoff, design review and close-out; every "
            "detractor gets a follow-up case.",
        },
        {
            "name": "Client experience management",
            "status": "planned",
            "description": "A change board ranks improvement initiatives; dashboards and governance keep "
            "the program going without heroics.",
        },
    ],
    "responsibilities": [
        {
            "group": "Executive team",
            "responsibilities": "Champion the program, explain why it matters, remove obstacles, and review "
            "the metrics every quarter.",
        },
        {
            "group": "CX Center of Excellence",
            "responsibilities": "Design and run the listening program, propose the metrics, coach teams, and "
            "report what clients say and what changed.",
        },
        {
            "group": "Division and unit leaders",
            "responsibilities": "Give teams the time and tools to take part, and bring discoveries and "
            "lessons learned back to the CoE.",
        },
        {
            "group": "Project managers",
            "responsibilities": "Ask clients for feedback at each milestone, follow up on what they hear, and "
            "share improvement ideas with their leaders.",
        },
    ],
    "desired_behaviors": [
        "Make each decision as if the client were in the room",
        "Find what the client is unsure about and make it clear, before they have to ask",
        "Read every client's sentiment and respond to it; never assume all is well",
        "Bring our partners into the way we treat clients, and help them succeed with us",
    ],
    "metrics": [
        {
            "kind": "behavior",
            "name": "Feedback participation",
            "definition": "Share of active projects that asked their client for feedback this quarter",
            "target": "85% of projects",
        },
        {
            "kind": "behavior",
            "name": "Improvement ideas raised",
            "definition": "Ideas submitted to the change board by staff, per quarter",
            "target": "30 per quarter",
        },
        {
            "kind": "behavior",
            "name": "Charter acknowledgment",
            "definition": "Members who acknowledged the charter in force",
            "target": "95% in every unit",
        },
        {
            "kind": "business",
            "name": "Net Promoter Score",
            "definition": "Promoters minus detractors among client responses, rolling 12 months",
            "target": "+50",
        },
        {
            "kind": "business",
            "name": "Net revenue retention",
            "definition": "Fees this year from last year's clients, divided by last year's fees from them",
            "target": "105%",
        },
        {
            "kind": "business",
            "name": "Proposal win rate",
            "definition": "Proposals won divided by proposals decided, by market",
            "target": "40%",
        },
    ],
}

MATRIX = {
    "Relating": [
        "Ask a client what else is on their plate this month, and offer one thing that would lighten it.",
        "Before a design review, write down what you think the client is most anxious about; ask if you were right.",
        "Walk the site with the people who will run the building, not only the people who pay for it.",
    ],
    "Adapting": [
        "List the decisions your client faces in the next two weeks and send what they need to make each one.",
        "Borrow one habit from a partner firm's process that clients praise, and try it on your next project.",
        "When a schedule slips, tell the client the same day with two options, not one apology.",
    ],
    "Leading": [
        "Offer an hour of design advice to a community group that cannot afford a consultant.",
        "Name one practice in our industry that leaves clients worse off, and propose what we do instead.",
        "Volunteer for a board or committee where your expertise is actually used, and report back what you learned.",
    ],
    "Partnering": [
        "Thank a subconsultant in writing for a specific contribution, and copy their manager.",
        "After a project, tell a partner one thing that would make working with them even better, kindly.",
        "Turn something you learned on a project into a one-page note a partner or client can reuse.",
    ],
    "Teaching": [
        "Explain a technical trade-off to someone outside the profession and check what they took away.",
        "Pair with a colleague from another studio for a day and teach each other one method.",
        "Give a lunch-and-learn on a client's industry, so the whole team speaks their language.",
    ],
    "Measuring": [
        "Agree with the client at kickoff how both of you will judge the project a success.",
        "Predict how a design decision will play out, write it down, and check it at close-out.",
        "Revisit the metrics on a finished project: keep those that still matter and drop the rest.",
    ],
}

TEAM = {
    "from_text": "Jordan Lee, CX Center of Excellence lead",
    "purpose": (
        "The CX Center of Excellence exists so that every Harborview project team can listen to its "
        "clients and act on what it hears, without each team inventing its own way."
    ),
    "what_we_do": (
        "- Run the feedback program: question sets, schedules, follow-up rules\n"
        "- Coach project managers on asking for and responding to feedback\n"
        "- Turn responses into insight: themes, stories, trends by market\n"
        "- Prepare the change board and report progress to the executive team"
    ),
    "what_we_dont_do": (
        "- Own client relationships: project managers and principals do\n"
        "- Fix project issues ourselves: we route them to the accountable team and follow up\n"
        "- Judge individual performance from survey scores"
    ),
    "responsibilities": [
        {"group": "CoE lead", "responsibilities": "Sets the program's priorities and reports to the COO."},
        {"group": "Insight analyst", "responsibilities": "Maintains the dashboards and the quarterly readout."},
        {"group": "Program coordinator", "responsibilities": "Schedules requests and tracks follow-up cases."},
    ],
    "success_criteria": (
        "Within a year: every active project takes part, detractor follow-ups start within three working days, "
        "and unit leaders use the dashboards in their monthly reviews without being asked."
    ),
    "metrics": [
        {
            "kind": "behavior",
            "name": "Follow-up start time",
            "definition": "Working days from a detractor response to the first contact",
            "target": "3 days or fewer",
        },
        {
            "kind": "business",
            "name": "Client retention",
            "definition": "Clients with new work within 18 months of a completed project",
            "target": "70%",
        },
    ],
    "skill_sets": (
        "Survey and interview design; facilitation; plain-language writing; basic statistics; and enough "
        "project delivery experience to be credible with project managers."
    ),
}

CALLOUTS = [
    ("kudos", "Relating", 1, "project_manager", "Walked the new wing with the night nursing staff.", "Bayside Clinic"),
    ("kudos", "Measuring", 0, "project_manager", "Agreed success measures with the district at kickoff.", ""),
    ("kudos", "Adapting", 2, "project_manager_2", "Called the county the same day the permit slipped.", "Route 9"),
    ("kudos", "Partnering", 0, "staff", "Sent a thank-you note to the geotechnical team.", "Harbor Water Works"),
    ("kudos", "Teaching", 0, "staff", "Explained the stormwater options to the school board.", ""),
    ("kudos", "Relating", 0, "unit_leader", "Asked the client what else was keeping them up at night.", ""),
    ("flag", "Partnering", None, None, "A partner was blamed in front of the client for our own delay.", ""),
]


def drawn_signature() -> list[list[list[float]]]:
    """The lead executive's signature, as the signing canvas records one (points in canvas pixels): a capital
    M, a run of cursive loops tall and short as a hand writes them, and a swash under it."""
    capital = [[48, 152], [58, 96], [70, 52], [80, 44], [88, 70], [94, 128], [100, 84], [112, 46], [122, 50]]
    capital += [[126, 96], [132, 130], [146, 124]]
    loops = []
    for n, height in enumerate([30, 14, 40, 12, 24, 10]):
        for i in range(30):
            t = (n + i / 30) * 2 * math.pi
            loops.append([round(146 + 9 * t + 14 * math.sin(t), 1), round(124 - height * (1 - math.cos(t)) / 2, 1)])
    swash = [[round(56 + 11 * i, 1), round(166 - 20 * math.sin(i / 40 * math.pi) + i / 5, 1)] for i in range(41)]
    return [capital, loops, swash]


def seed(organization, people: dict) -> None:
    editor = people["cx_coe"].user
    version = services.create_charter(
        organization=organization,
        actor=editor,
        title="Client Listening and Client Experience Charter",
        kind="program",
    )
    version = services.save_draft(
        version=version, actor=editor, revision=version.revision, title=version.title, content=PROGRAM
    )
    for column in version.matrix["columns"]:
        for text in MATRIX[column["name"]]:
            version = services.change_matrix(
                version=version, actor=editor, operation="add_behavior", args={"column": column["key"], "text": text}
            )
    signature_request = services.send_for_signature(
        version=version,
        actor=editor,
        lead=people["lead_executive"],
        supporters=[people["executive"], people["executive_2"]],
        message="The charter we discussed at the leadership offsite, ready for your signatures.",
    )
    lead_signer, *supporters = signature_request.signers.select_related("membership__user").order_by("position")
    services.sign(
        signer=lead_signer,
        user=lead_signer.membership.user,
        consent=True,
        method="drawn",
        strokes=drawn_signature(),
    )
    for signer in supporters:
        services.sign(
            signer=signer,
            user=signer.membership.user,
            consent=True,
            method="typed",
            typed_name=signer.membership.user.display_name,
        )
    charter = version.charter
    charter.refresh_from_db()
    for key in ("lead_executive", "executive", "executive_2", "cx_coe", "unit_leader", "project_manager"):
        services.acknowledge(charter=charter, membership=people[key])

    version.refresh_from_db()
    columns = {c["name"]: c for c in version.matrix["columns"]}
    now = timezone.now()
    for days, (kind, column, index, subject, note, client) in enumerate(CALLOUTS):
        behavior = columns[column]["behaviors"][index]["key"] if index is not None else ""
        callout = services.record_callout(
            charter=charter,
            author=people["cx_coe"] if subject != "project_manager" else people["unit_leader"],
            kind=kind,
            note=note,
            behavior_key=behavior,
            column_key=columns[column]["key"],
            subject=people[subject] if subject else None,
            client_or_project=client,
        )
        Callout.objects.filter(pk=callout.pk).update(created_at=now - timedelta(days=4 * days + 1))

    team = services.create_charter(
        organization=organization, actor=editor, title="CX Center of Excellence Team Charter", kind="team"
    )
    services.save_draft(version=team, actor=editor, revision=team.revision, title=team.title, content=TEAM)
