"""What a client sees, without an account: the survey behind an unguessable link, the thank-you page,
unsubscribing; and the mail provider's signed bounce webhook. Bad links get a friendly page, never a 500;
every page is rate-limited per IP and per link."""

import hashlib
import hmac
import json
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpResponse, JsonResponse
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
from .models import FeedbackSettings

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


def _closed(request, survey_request=None, status=410):
    language = survey_request.contact.language if survey_request else "en"
    context = {"ui": q.ui_text(language), "language": language}
    if survey_request:
        context.update(organization=survey_request.organization, sender=survey_request.batch.sender)
    return render(request, "feedback/public/closed.html", context, status=status)


def _open_request(request, token):
    """(survey request, error response): the request behind an open link, or the page to show instead."""
    if _rate_limited(request, token):
        return None, _too_many(request)
    survey_request = selectors.find_request(token)
    if survey_request is None:
        return None, _closed(request, status=404)
    if services.request_closed(survey_request):
        return None, _closed(request, survey_request)
    return survey_request, None


def _questions_html(version, language: str, organization_name: str, values: dict, errors: dict) -> str:
    """The survey's questions as HTML. Rendered once per template version, language, organization
    name and pre-selected score (versions never change; a new version is a new row), except when the
    page shows errors or saved answers beyond the score."""
    nps_key = q.nps_key(version.questions)
    if errors or set(values) - {nps_key}:
        return _render_questions(version, language, organization_name, values, errors)
    return _render_questions_once(version, language, organization_name, values.get(nps_key))


@lru_cache(maxsize=512)
def _render_questions_once(version, language: str, organization_name: str, score: int | None) -> str:
    nps_key = q.nps_key(version.questions)
    return _render_questions(version, language, organization_name, {nps_key: score} if score is not None else {}, {})


def _render_questions(version, language: str, organization_name: str, values: dict, errors: dict) -> str:
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
    return render_to_string("feedback/public/_questions.html", {"items": items, "ui": ui})


def _survey_context(survey_request, token, values, errors):
    version = survey_request.batch.template_version
    language = q.pick_language(survey_request.contact.language, version.languages)
    organization = survey_request.organization
    return {
        "organization": organization,
        "project": survey_request.project,
        "sender": survey_request.batch.sender,
        "questions": _questions_html(version, language, organization.name, values, errors),
        "ui": q.ui_text(language),
        "language": language,
        "token": token,
        "answered": hasattr(survey_request, "response"),
    }


@transaction.non_atomic_requests  # a GET is one statement, which needs no transaction of its own
@retry_keeps_post  # the database away: the retry page posts the client's answers again
def survey(request, token):
    """GET shows the survey (a score from the mail's link is pre-selected, nothing is recorded: mail
    scanners open every link). POST records or updates the response, in one transaction."""
    if request.method == "POST":
        with transaction.atomic():
            return _survey(request, token)
    return _survey(request, token)


def _survey(request, token):
    survey_request, error = _open_request(request, token)
    if error:
        return error
    errors = {}
    if request.method == "POST":
        try:
            services.submit_response(survey_request=survey_request, data=request.POST)
        except ValidationError as invalid:
            errors = invalid.message_dict
            values, _ = q.clean_answers(survey_request.batch.template_version.questions, request.POST, partial=True)
        else:
            return redirect("feedback_public:thanks", token=token)
    else:
        existing = getattr(survey_request, "response", None)
        values = dict(existing.answers if existing else survey_request.draft_answers)
        score = request.GET.get("score", "")
        nps_key = q.nps_key(survey_request.batch.template_version.questions)
        if nps_key and score.isdigit() and 0 <= int(score) <= 10:
            values[nps_key] = int(score)
    context = _survey_context(survey_request, token, values, errors)
    return render(request, "feedback/public/survey.html", context, status=400 if errors else 200)


@require_POST
def autosave(request, token):
    survey_request, error = _open_request(request, token)
    if error:
        return error
    services.save_draft_answers(survey_request=survey_request, data=request.POST)
    language = q.pick_language(survey_request.contact.language, survey_request.batch.template_version.languages)
    return HttpResponse(q.ui_text(language)["saved"])


@transaction.non_atomic_requests  # one statement
def thanks(request, token):
    if _rate_limited(request, token):
        return _too_many(request)
    survey_request = selectors.find_request(token)
    if survey_request is None or not hasattr(survey_request, "response"):
        return _closed(request, survey_request, status=404)
    response = survey_request.response
    language = q.pick_language(survey_request.contact.language, survey_request.batch.template_version.languages)
    return render(
        request,
        "feedback/public/thanks.html",
        {
            "organization": survey_request.organization,
            "ui": q.ui_text(language),
            "language": language,
            "token": token,
            "will_contact": hasattr(response, "case") or response.follow_up_requested,
            "can_change": not services.request_closed(survey_request),
        },
    )


@csrf_exempt
def unsubscribe(request, token):
    """GET asks for confirmation; POST (the RFC 8058 one-click POST from the mail client, or the
    confirmation button) opts the contact out. No cookie, login or CSRF token is needed: the
    unguessable link is the credential."""
    if _rate_limited(request, token):
        return _too_many(request)
    survey_request = selectors.find_request(token)
    if survey_request is None:
        return _closed(request, status=404)
    contact = survey_request.contact
    language = contact.language
    context = {"ui": q.ui_text(language), "language": language, "organization": survey_request.organization}
    if request.method == "POST":
        services.opt_out_contact(contact=contact, reason="Unsubscribed from the survey mail")
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
