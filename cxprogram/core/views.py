import sys

from django.conf import settings
from django.http import Http404, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, render
from django.views import defaults

from cxprogram.audit.models import AuditEvent
from cxprogram.tenancy.context import activate
from cxprogram.tenancy.models import Organization

from .middleware import database_unavailable, is_database_unavailable
from .models import OutboxMessage


def _require_outbox():
    if not (settings.DEBUG and settings.EMAIL_BACKEND == "cxprogram.core.mail.OutboxBackend"):
        raise Http404


def outbox(request):
    """The dev outbox (embedded default, DEBUG only): every mail the app sent, newest first."""
    _require_outbox()
    return render(request, "core/outbox.html", {"messages_sent": OutboxMessage.objects.all()[:200]})


def outbox_message(request, pk):
    _require_outbox()
    return render(request, "core/outbox_message.html", {"mail": get_object_or_404(OutboxMessage, pk=pk)})


def outbox_message_html(request, pk):
    _require_outbox()
    mail = get_object_or_404(OutboxMessage, pk=pk)
    return HttpResponse(mail.body_html or "<p>This mail has no HTML part.</p>")


def _benchmark_form(request):
    """GET: a form with the CSRF token; POST (checked by the CSRF middleware): back to the form."""
    if request.method == "POST":
        return HttpResponse(status=302, headers={"Location": request.get_full_path()})
    token = get_token(request)
    return HttpResponse(f'<form method="post"><input type="hidden" name="csrfmiddlewaretoken" value="{token}"></form>')


def benchmark_floor(request):
    """The framework's floor for the load benchmark (mounted only with BENCHMARK_ENDPOINTS): the same
    middleware, CSRF and session handling as the survey, and no application work."""
    return _benchmark_form(request)


def benchmark_read_and_insert(request):
    """The load benchmark's reference for write paths (mounted only with BENCHMARK_ENDPOINTS): the floor
    plus the least any tenant write pays: one indexed read (the organization `?org=`, made current for
    row-level security) on each request and, on POST, one insert (an audit row), in the request's transaction."""
    pk = request.GET.get("org", "")
    organization = get_object_or_404(Organization, pk=int(pk) if pk.isdigit() else None)
    activate(organization)
    if request.method == "POST":
        AuditEvent.objects.create(organization=organization, verb="benchmark.insert", payload={})
    return _benchmark_form(request)


def server_error(request):
    """Django's 500 handler (called while the error is being handled). A database that stopped
    answering outside a view, e.g. while a middleware saves the session, is a 503 to try again there too."""
    error = sys.exc_info()[1]
    if is_database_unavailable(error):
        return database_unavailable(request, error)
    return defaults.server_error(request)
