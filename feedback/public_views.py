"""What a client sees, without an account: the survey behind an unguessable link, the thank-you page,
unsubscribing; and the mail provider's signed bounce webhook. Bad links get a friendly page, never a 500;
every page is rate-limited per IP and per link."""

import hashlib
import hmac
import json
import secrets
from functools import lru_cache
from typing import NamedTuple

from django.conf import settings
from django.db import transaction
from django.http import HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from cxprogram.audit.services import client_ip
from cxprogram.core.middleware import retry_keeps_post
from cxprogram.core.ratelimit import over_limit
from cxprogram.tenancy.context import activate, system_scope
from cxprogram.tenancy.models import Organization

from . import questions as q
from . import selectors, services
from .models import Contact, FeedbackSettings, SurveyTemplateVersion

RATE_LIMITS = {"ip": settings.SURVEY_RATE_LIMIT_PER_IP, "token": 40}  # requests per minute


def _rate_limited(request, token: str) -> bool:
    token_key = hashlib.sha256(token.encode()).hexdigest()[:32]
    return over_limit(
        {
            f"survey:ip:{client_ip(request) or 'unknown'}": RATE_LIMITS["ip"],
            f"survey:token:{token_key}": RATE_LIMITS["token"],
        }
    )


def _too_many(request):
    response = render(request, "feedback/public/too_many.html", {"ui": q.ui_text("en")}, status=429)
    response["Retry-After"] = "60"
    return response


def _page_context(link, language: str) -> dict:
    """What every public page shows of the link: the organization's name and logo, in its language."""
    return {
        "organization_name": link.organization_name if link else "",
        "logo_url": link.logo_url if link else "",
        "ui": q.ui_text(language),
        "language": language,
    }


def _language(link) -> str:
    return q.pick_language(link.contact_language, selectors.survey_version(link).languages)


def _closed(request, link=None, status: int | None = None):
    """The friendly page for a link that never existed (404) or no longer takes answers (410)."""
    context = _page_context(link, link.contact_language if link else "en")
    context["sender_name"] = link.sender_name if link else ""
    return render(request, "feedback/public/closed.html", context, status=status or (410 if link else 404))


def _open_link(request, token):
    """(link, error response): the link behind an open survey token, or the page to show instead."""
    if _rate_limited(request, token):
        return None, _too_many(request)
    link = selectors.survey_link(token)
    if link is None or link.closed:
        return None, _closed(request, link)
    return link, None


# In a survey page kept for reuse, the link's token and the visitor's CSRF token are these slots:
# random, so no text of the page can contain them, and plain letters, which no escaping changes.
TOKEN_SLOT, CSRF_SLOT = f"tokenslot{secrets.token_hex(12)}", f"csrfslot{secrets.token_hex(12)}"


class SurveyFacts(NamedTuple):
    """What a survey page shows besides the answers: alike for the links of one project and sender."""

    version: SurveyTemplateVersion
    language: str
    organization_name: str
    logo_url: str
    project_name: str
    sender_name: str
    answered: bool


def _survey_page(request, token: str, link, values: dict, errors: dict):
    """The survey form. A page with nothing but a score chosen is rendered once per facts and score, and
    kept (nearly every visit is to a fresh link); one with errors or saved answers is rendered anew."""
    version = selectors.survey_version(link)
    facts = SurveyFacts(
        version,
        q.pick_language(link.contact_language, version.languages),
        link.organization_name,
        link.logo_url,
        link.project_name,
        link.sender_name,
        link.answered,
    )
    nps_key = q.nps_key(version.questions)
    if errors or set(values) - {nps_key}:
        html = _render_survey(facts, values, errors, token, get_token(request))
    else:
        page = _kept_survey(facts, values.get(nps_key))
        html = page.replace(TOKEN_SLOT, token).replace(CSRF_SLOT, get_token(request))
    return HttpResponse(html, status=400 if errors else 200)


@lru_cache(maxsize=512)
def _kept_survey(facts: SurveyFacts, score: int | None) -> str:
    values = {q.nps_key(facts.version.questions): score} if score is not None else {}
    return _render_survey(facts, values, {}, TOKEN_SLOT, CSRF_SLOT)


def _render_survey(facts: SurveyFacts, values: dict, errors: dict, token: str, csrf_token: str) -> str:
    return render_to_string(
        "feedback/public/survey.html",
        {
            **facts._asdict(),
            "version_id": facts.version.pk,
            "items": _question_items(facts.version, facts.language, facts.organization_name, values, errors),
            "ui": q.ui_text(facts.language),
            "token": token,
            "csrf_token": csrf_token,
        },
    )


def _question_items(version, language: str, organization_name: str, values: dict, errors: dict) -> list[dict]:
    ui = q.ui_text(language)
    items = []
    for question in version.questions:
        kind = question["kind"]
        item = {
            "key": question["key"],
            "kind": kind,
            "required": question.get("required", False),
            "text": q.localized(question["text"], language, organization=organization_name),
            "low_label": q.localized(question.get("low_label", ""), language),
            "high_label": q.localized(question.get("high_label", ""), language),
            "value": values.get(question["key"]),
            "error": ui["required"] if question["key"] in errors else "",
        }
        if kind in ("nps", "rating"):
            low, high = (0, 10) if kind == "nps" else (question.get("scale_min", 1), question.get("scale_max", 5))
            # (label, checked): strings, so the page does not run number formatting for every option.
            item["options"] = [(str(n), item["value"] == n) for n in range(low, high + 1)]
        elif kind in ("single_choice", "multiple_choice"):
            item["choices"] = [(c["value"], q.localized(c["label"], language)) for c in question.get("choices", [])]
        items.append(item)
    return items


@transaction.non_atomic_requests  # the page is one statement, and so is a submit (see _submit)
@retry_keeps_post  # the database away: the retry page posts the client's answers again
def survey(request, token):
    """GET shows the survey (a score from the mail's link is pre-selected, nothing is recorded: mail
    scanners open every link). POST records or updates the response."""
    if request.method == "POST":
        return _submit(request, token)
    link, error = _open_link(request, token)
    if error:
        return error
    values = dict(link.saved_answers)
    score = request.GET.get("score", "")
    nps_key = q.nps_key(selectors.survey_version(link).questions)
    if nps_key and score.isdigit() and 0 <= int(score) <= 10:
        values[nps_key] = int(score)
    return _survey_page(request, token, link, values, {})


def _record_posted(request, token: str, record, recorded: tuple):
    """Record what a survey form posted, with `record(version)`, which returns an outcome (`recorded`:
    those that mean it did). The form names the version it showed: when this process showed it, the
    answers are checked against it and recorded in one statement, which also checks that the link is open
    and asks that version. Otherwise (another process showed the form, or that statement refused) the link
    is read first and its own version used. Returns (outcome, version, link): the version last tried, and
    the link if it was read; outcome None for a link that does not exist or is closed."""
    version = selectors.shown_version(request.POST.get("version", ""))
    if version is not None:
        outcome = record(version)
        if outcome in recorded:
            return outcome, version, None
    link = selectors.survey_link(token)
    if link is None or link.closed:
        return None, None, link
    version = selectors.survey_version(link)
    return record(version), version, link


INVALID = "invalid"  # answers to correct: nothing recorded


def _submit(request, token):
    if _rate_limited(request, token):
        return _too_many(request)

    def submit(version):
        answers, errors = q.clean_answers(version.questions, request.POST, partial=False)
        return INVALID if errors else services.submit_answers(token=token, version=version, answers=answers)

    outcome, version, link = _record_posted(request, token, submit, services.RECORDED)
    if outcome in services.RECORDED:
        return redirect("feedback_public:thanks", token=token)
    if outcome == INVALID:
        values, _ = q.clean_answers(version.questions, request.POST, partial=True)
        _, errors = q.clean_answers(version.questions, request.POST, partial=False)
        return _survey_page(request, token, link, values, errors)
    return _closed(request, link if outcome is None else selectors.survey_link(token))  # closed since read


@require_POST
@transaction.non_atomic_requests  # one statement
def autosave(request, token):
    if _rate_limited(request, token):
        return _too_many(request)

    def save(version):
        answers, _ = q.clean_answers(version.questions, request.POST, partial=True)
        return services.save_draft(token=token, version=version, answers=answers)

    outcome, _, link = _record_posted(request, token, save, (services.SAVED,))
    if outcome != services.SAVED:
        return _closed(request, link if outcome is None else selectors.survey_link(token))
    return HttpResponse(q.ui_text(request.POST.get("language", ""))["saved"])  # in the language the page was


@transaction.non_atomic_requests  # one statement
def thanks(request, token):
    if _rate_limited(request, token):
        return _too_many(request)
    link = selectors.survey_link(token)
    if link is None or not link.answered:
        return _closed(request, link, status=404)
    context = _page_context(link, _language(link))
    context.update(token=token, will_contact=link.will_contact, can_change=not link.closed)
    return render(request, "feedback/public/thanks.html", context)


@csrf_exempt
def unsubscribe(request, token):
    """GET asks for confirmation; POST (the RFC 8058 one-click POST from the mail client, or the
    confirmation button) opts the contact out. No cookie, login or CSRF token is needed: the
    unguessable link is the credential."""
    if _rate_limited(request, token):
        return _too_many(request)
    link = selectors.survey_link(token)
    if link is None:
        return _closed(request)
    context = _page_context(link, link.contact_language)
    if request.method == "POST":
        contact = Contact.objects.select_related("organization").get(pk=link.contact_id)
        services.opt_out_contact(contact=contact, reason="Unsubscribed from the survey mail", by_contact=True)
        return render(request, "feedback/public/unsubscribed.html", context)
    return render(request, "feedback/public/unsubscribe.html", context)


def _webhook_secret(organization) -> str:
    own = FeedbackSettings.objects.for_org(organization).values_list("webhook_secret", flat=True).first()
    return own or getattr(settings, "FEEDBACK_WEBHOOK_SECRET", "")


def signature_for(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@csrf_exempt
@require_POST
def bounce_webhook(request, organization_slug):
    """Bounces and complaints from the mail provider. The body is JSON, `{"events": [{"type": "bounce" |
    "complaint", "email": ..., "bounce_type": "hard" | "soft", "reason": ...}]}`, signed with
    HMAC-SHA256 over the raw body under the organization's webhook secret (feedback settings; else the
    FEEDBACK_WEBHOOK_SECRET setting), hex-encoded in the X-CX-Signature header ("sha256=" prefix allowed).
    A missing or wrong signature is a 403 and changes nothing."""
    with system_scope():
        organization = Organization.objects.filter(slug=organization_slug).first()
    if organization is None:
        return JsonResponse({"error": "unknown organization"}, status=404)
    activate(organization)
    secret = _webhook_secret(organization)
    given = request.headers.get("X-CX-Signature", "").removeprefix("sha256=")
    if not secret or not hmac.compare_digest(given, signature_for(secret, request.body)):
        return JsonResponse({"error": "bad signature"}, status=403)
    try:
        payload = json.loads(request.body)
        events = payload["events"] if isinstance(payload, dict) else None
        if not isinstance(events, list):
            raise ValueError
    except (ValueError, KeyError, TypeError):
        return JsonResponse({"error": 'expected JSON {"events": [...]}'}, status=400)
    applied = 0
    for event in events[:1000]:
        if not isinstance(event, dict) or not isinstance(event.get("email"), str):
            continue
        if event.get("type") == "complaint":
            kind = "complaint"
        elif event.get("type") == "bounce":
            kind = "hard" if event.get("bounce_type", "hard") == "hard" else "soft"
        else:
            continue
        contact = services.record_bounce(
            organization=organization, email=event["email"], kind=kind, reason=str(event.get("reason", ""))
        )
        applied += contact is not None
    return JsonResponse({"applied": applied})
