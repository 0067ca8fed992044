"""Demo feedback for Harborview Design Group: clients, contacts and projects across the units, and
18 months of batches, responses (a mix that improves over time), follow-up cases and opt-outs.
Rows are written with bulk_create so seeding stays fast."""

import random
from datetime import timedelta

from django.utils import timezone

from cxprogram.core import tokens
from cxprogram.tenancy.models import Unit

from . import services
from .models import (
    Batch,
    BatchContact,
    BatchProject,
    Client,
    Contact,
    FeedbackSettings,
    FollowUpCase,
    Project,
    Response,
    SurveyRequest,
)

CLIENTS = [
    ("Mercy Regional Health", "Hospitals", "Healthcare"),
    ("Lakeside Children's Hospital", "Hospitals", "Healthcare"),
    ("Northgate Medical Partners", "Outpatient care", "Healthcare"),
    ("St. Brigid Senior Living", "Senior care", "Healthcare"),
    ("Valley Behavioral Health", "Behavioral health", "Healthcare"),
    ("Harbor City Public Schools", "K-12 education", "Education"),
    ("Eastfield Community College", "Higher education", "Education"),
    ("Pinecrest University", "Higher education", "Education"),
    ("Bayview Charter Network", "K-12 education", "Education"),
    ("Westmoor Academy", "Independent schools", "Education"),
    ("State Department of Transportation", "Public agency", "Transportation"),
    ("Metro Transit Authority", "Transit", "Transportation"),
    ("Port of Harbor City", "Ports", "Transportation"),
    ("Greenline Rail Partners", "Rail", "Transportation"),
    ("County Airport Authority", "Aviation", "Transportation"),
    ("Harbor City Water Utility", "Water utility", "Water"),
    ("Riverbend Wastewater District", "Wastewater", "Water"),
    ("Coastal Flood Control Board", "Public agency", "Water"),
    ("Clearbrook Irrigation Co-op", "Agriculture", "Water"),
    ("Tri-County Stormwater Alliance", "Public agency", "Water"),
    ("Summit Office REIT", "Real estate", "Corporate"),
    ("Keystone Federal Credit Union", "Financial services", "Corporate"),
    ("Aldridge Manufacturing", "Manufacturing", "Corporate"),
    ("Cobalt Data Centers", "Technology", "Corporate"),
    ("Harbor City Parks Foundation", "Non-profit", "Corporate"),
]
# Firms courted but not yet won: no projects, so no feedback.
PROSPECTS = [
    ("Ridgeview Medical Group", "Outpatient care", "Healthcare"),
    ("Lakeport School District", "K-12 education", "Education"),
]
FIRST = ["Maria", "James", "Aisha", "Robert", "Mei", "Carlos", "Laura", "David", "Fatima", "Kevin", "Sofia", "Brian"]
LAST = ["Alvarez", "Bennett", "Chowdhury", "Dubois", "Evans", "Fischer", "Garcia", "Hughes", "Ito", "Jensen", "Kim"]
TITLES = {
    "decision_maker": ["Director of Facilities", "Capital Program Manager", "Chief Operating Officer", "Owner's Rep"],
    "influencer": ["Project Engineer", "Planning Manager", "Procurement Lead"],
    "user": ["Facilities Coordinator", "Operations Supervisor", "Building Manager"],
}
# What a design firm builds for each kind of client; a client's projects take turns through its sector's list.
PROJECT_NAMES = {
    "Healthcare": ["Patient Tower Expansion", "Emergency Department Renovation", "Clinic Conversion"],
    "Education": ["STEM Wing Addition", "Residence Hall", "Campus Master Plan"],
    "Transportation": ["Bus Rapid Transit Corridor", "Bridge Rehabilitation", "Terminal Modernization"],
    "Water": ["Water Treatment Plant Upgrade", "Pump Station Retrofit", "Seawall Reconstruction"],
    "Corporate": ["Headquarters Fit-out", "Parking Structure", "Data Hall Expansion"],
}


# How a client's project names start, where its first word would not do ("St.", "State", "Port").
SHORT_NAMES = {
    "St. Brigid Senior Living": "St. Brigid",
    "State Department of Transportation": "Statewide",
    "Port of Harbor City": "Harbor Port",
    "County Airport Authority": "County Airport",
    "Harbor City Public Schools": "Harbor City Schools",
    "Harbor City Water Utility": "Harbor City",
    "Harbor City Parks Foundation": "Harbor City Parks",
}


REASONS = {
    "promoter": [
        "The team anticipated problems before they became ours.",
        "Clear, regular updates and no surprises on cost.",
        "Our project manager was responsive and easy to work with.",
        "Great design quality and the schedule held.",
    ],
    "passive": [
        "Good work overall, but we had to chase a few answers.",
        "Solid design; the submittal reviews took longer than expected.",
        "Fine, though the hand-off between phases was bumpy.",
    ],
    "detractor": [
        "Drawings came late and we had to push back the bid.",
        "We rarely knew where the budget stood.",
        "Staff changed twice and we lost continuity.",
        "Responses to RFIs were slow during construction.",
    ],
}
ROOT_CAUSES = ["communication", "schedule", "budget", "staffing", "responsiveness", "quality"]


def _score(rng: random.Random, progress: float) -> int:
    """A score whose mix improves as `progress` goes from 0 (18 months ago) to 1 (now)."""
    promoter = 0.32 + 0.28 * progress
    detractor = 0.30 - 0.18 * progress
    roll = rng.random()
    if roll < promoter:
        return rng.choice([9, 9, 10])
    if roll < promoter + detractor:
        return rng.choice([2, 3, 4, 5, 6, 6])
    return rng.choice([7, 8, 8])


def _domain(name: str) -> str:
    """A mail domain of a name's whole words: "St. Brigid Senior Living" -> stbrigidseniorliving.example."""
    words = ["".join(ch for ch in word if ch.isalnum()) for word in name.lower().split()]
    domain = ""
    for word in (w for w in words if w and w not in ("of", "the", "and")):
        if domain and len(domain + word) > 20:
            break
        domain += word
    return domain + ".example"


def seed(organization, people: dict) -> None:
    rng = random.Random(20260)
    now = timezone.now()
    tz = organization.tz
    FeedbackSettings.objects.create(organization=organization, reminder_days=[4, 9], webhook_secret="demo-webhook")
    version = services.default_template(organization, people["cx_coe"].user).current_version
    units = {u.name: u for u in Unit.objects.for_org(organization)}
    pm_for = {
        "Healthcare": people["project_manager"],
        "Education": people["project_manager"],
        "Transportation": people["project_manager_2"],
        "Water": people["project_manager_2"],
        "Corporate": people["project_manager"],
    }
    clients = Client.objects.bulk_create(
        [
            Client(
                organization=organization,
                name=name,
                industry=industry,
                unit=units[unit],
                account_owner=people["unit_leader"] if unit in ("Healthcare", "Education") else pm_for[unit],
                tags=["key account"] if n % 5 == 0 else [],
            )
            for n, (name, industry, unit) in enumerate(CLIENTS)
        ]
    )
    Client.objects.bulk_create(
        Client(
            organization=organization,
            name=name,
            industry=industry,
            unit=units[unit],
            account_owner=people["unit_leader"],
            status=Client.Status.PROSPECT,
        )
        for name, industry, unit in PROSPECTS
    )
    contacts = []
    for n, client in enumerate(clients):
        for k in range(3 + (n % 3 == 0)):
            kind = ["decision_maker", "influencer", "user"][k % 3]
            first, last = FIRST[(n + k * 5) % len(FIRST)], LAST[(n * 3 + k) % len(LAST)]
            domain = _domain(client.name)
            contacts.append(
                Contact(
                    organization=organization,
                    client=client,
                    name=f"{first} {last}",
                    email=f"{first}.{last}{n}{k}@{domain}".lower(),
                    title=rng.choice(TITLES[kind]),
                    kind=kind,
                    language="es" if (n + k) % 11 == 0 else "fr" if (n + k) % 17 == 0 else "en",
                )
            )
    contacts = Contact.objects.bulk_create(contacts)
    projects = []
    for n in range(40):
        client = clients[n % len(clients)]
        unit_name = CLIENTS[n % len(CLIENTS)][2]
        sector_names = PROJECT_NAMES[unit_name]
        short_name = SHORT_NAMES.get(client.name, client.name.split()[0])
        start = (now - timedelta(days=rng.randint(200, 900))).date()
        projects.append(
            Project(
                organization=organization,
                code=f"HV-{22 + n // 14}{n:03d}",
                name=f"{short_name} {sector_names[(n + n // len(clients)) % len(sector_names)]}",
                client=client,
                project_manager=pm_for[unit_name],
                unit=units[unit_name],
                phase=rng.choice(["design", "design", "construction", "planning", "closeout"]),
                start_date=start,
                end_date=start + timedelta(days=rng.randint(300, 1000)),
                status=Project.Status.COMPLETED if n % 8 == 7 else Project.Status.ACTIVE,
            )
        )
    projects = Project.objects.bulk_create(projects)
    contacts_of = {}
    for contact in contacts:
        contacts_of.setdefault(contact.client_id, []).append(contact)

    # 18 months of batches: each month, a few projects ask their client's contacts.
    batches, links, picks, requests, responses, cases = [], [], [], [], [], []
    last_asked = {}
    plan = []
    for month in range(18, -1, -1):
        for slot in range(3):
            project = projects[(month * 3 + slot * 7) % len(projects)]
            sent_at = now - timedelta(days=30 * month + 3 + slot * 8, hours=rng.randint(0, 6))
            if sent_at > now - timedelta(days=2):
                continue
            plan.append((project, sent_at, month))
    for project, sent_at, _month in plan:
        batches.append(
            Batch(
                organization=organization,
                name=f"Feedback: {project.code}",
                template_version=version,
                personal_message="Thank you for working with us. Two minutes of your time helps us do better.",
                sender=project.project_manager,
                reply_to=project.project_manager.user.email,
                send_at=sent_at,
                state=Batch.State.SENT,
                created_by=project.project_manager.user,
                created_at=sent_at - timedelta(hours=2),
                started_at=sent_at,
                finished_at=sent_at + timedelta(minutes=1),
            )
        )
    batches = Batch.objects.bulk_create(batches)
    for batch, (project, sent_at, month) in zip(batches, plan, strict=True):
        links.append(BatchProject(organization=organization, batch=batch, project=project))
        for contact in contacts_of[project.client_id]:
            recent = last_asked.get(contact.pk)
            throttled = recent is not None and (sent_at - recent).days < 90
            picks.append(
                BatchContact(
                    organization=organization,
                    batch=batch,
                    contact=contact,
                    project=project,
                    skip_reason="throttled" if throttled else "",
                )
            )
            if throttled:
                batch.skipped_count += 1
                continue
            last_asked[contact.pk] = sent_at
            nonce = tokens.new_nonce()
            answered = rng.random() < 0.58
            requests.append(
                (
                    SurveyRequest(
                        organization=organization,
                        batch=batch,
                        contact=contact,
                        project=project,
                        state=SurveyRequest.State.SENT,
                        nonce=nonce,
                        token_hash=tokens.hash_token(tokens.make_token(services.TOKEN_PURPOSE, nonce)),
                        sent_at=sent_at,
                        message_id=f"<demo-{nonce}@cxprogram>",
                        reminders_sent=0 if answered else min(2, (now - sent_at).days // 5),
                        next_reminder_at=None if answered or month > 0 else sent_at + timedelta(days=9),
                        expires_at=sent_at + timedelta(days=30),
                        created_at=sent_at,
                    ),
                    answered,
                    1 - month / 18,
                )
            )
            batch.request_count += 1
            batch.sent_count += 1
    BatchProject.objects.bulk_create(links)
    BatchContact.objects.bulk_create(picks)
    SurveyRequest.objects.bulk_create([r for r, _, _ in requests])
    for request, answered, progress in requests:
        if not answered:
            continue
        score = _score(rng, progress)
        category = "promoter" if score >= 9 else "passive" if score >= 7 else "detractor"
        base = 5 if category == "promoter" else 4 if category == "passive" else 2
        answers = {
            "nps": score,
            "reason": rng.choice(REASONS[category]),
            "responsiveness": max(1, min(5, base + rng.choice([-1, 0, 0, 1]))),
            "clarity": max(1, min(5, base + rng.choice([-1, 0, 1]))),
            "understanding": max(1, min(5, base + rng.choice([0, 0, 1]))),
            "follow_up": category == "detractor" or rng.random() < 0.1,
        }
        submitted = request.sent_at + timedelta(hours=rng.randint(1, 120))
        submitted = min(submitted, now - timedelta(minutes=5))
        request.responded_at = submitted
        responses.append(
            Response(
                organization=organization,
                request=request,
                batch=request.batch,
                contact=request.contact,
                client_id=request.project.client_id,
                project=request.project,
                project_manager=request.project.project_manager,
                unit=request.project.unit,
                contact_kind=request.contact.kind,
                template_version=version,
                language=request.contact.language,
                nps_score=score,
                answers=answers,
                follow_up_requested=answers["follow_up"],
                submitted_at=submitted,
                updated_at=submitted,
                thank_you_approved_by=request.project.project_manager
                if category == "promoter" and rng.random() < 0.4
                else None,
                thank_you_sent_at=submitted + timedelta(days=1)
                if category == "promoter" and rng.random() < 0.4
                else None,
            )
        )
    SurveyRequest.objects.bulk_update([r for r, answered, _ in requests if answered], ["responded_at"])
    Batch.objects.bulk_update(batches, ["request_count", "skipped_count", "sent_count"], batch_size=200)
    responses = Response.objects.bulk_create(responses)
    for response in responses:
        trigger = (
            "detractor" if response.nps_score <= 6 else "follow_up_requested" if response.follow_up_requested else None
        )
        if not trigger:
            continue
        due = services.add_business_days(response.submitted_at, 2, tz)
        age = (now - response.submitted_at).days
        resolved = age > 14 and (rng.random() < 0.9 or age > 60)  # a few recent ones still open, none from long ago
        on_time = rng.random() < 0.78
        closed = (due - timedelta(hours=5)) if on_time else (due + timedelta(days=rng.randint(1, 6)))
        cases.append(
            FollowUpCase(
                organization=organization,
                response=response,
                client_id=response.client_id,
                project=response.project,
                unit=response.unit,
                owner=response.project_manager,
                trigger=trigger,
                state="resolved" if resolved else ("in_progress" if age > 3 else "open"),
                due_at=due,
                notes="Called the client to listen first." if resolved or age > 3 else "",
                outcome="Agreed on a fix and a check-in date; the client confirmed it helped." if resolved else "",
                root_cause=rng.choice(ROOT_CAUSES) if resolved else "",
                alerted_at=response.submitted_at,
                escalated_at=due + timedelta(days=3) if not resolved and now > due + timedelta(days=3) else None,
                escalated_to=people["unit_leader"] if not resolved and now > due + timedelta(days=3) else None,
                created_at=response.submitted_at,
                updated_at=closed if resolved else response.submitted_at,
                closed_at=closed if resolved else None,
            )
        )
    FollowUpCase.objects.bulk_create(cases)

    # Opt-outs and bounces, and a draft waiting for the PM.
    for contact in contacts[5:8]:
        contact.opted_out_at = now - timedelta(days=rng.randint(20, 300))
        contact.opted_out_reason = "Unsubscribed from the survey mail"
    contacts[12].bounced_at = now - timedelta(days=40)
    contacts[12].bounce_reason = "550 mailbox unavailable"
    Contact.objects.bulk_update(
        contacts[5:8] + [contacts[12]], ["opted_out_at", "opted_out_reason", "bounced_at", "bounce_reason"]
    )
    pm = people["project_manager"]
    draft_project = next(p for p in projects if p.project_manager_id == pm.pk and p.status == "active")
    services.create_batch(
        organization=organization,
        actor=pm.user,
        sender=pm,
        projects=[draft_project],
        contacts=contacts_of[draft_project.client_id],
        template_version=version,
        personal_message="We are halfway through design and would value your view.",
    )
