import sys

from django.conf import settings
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views import defaults

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


def benchmark_floor(request):
    """The framework's floor for the load benchmark (mounted only with BENCHMARK_ENDPOINTS): the same
    middleware, CSRF and session handling as the survey, and no application work."""
    from django.middleware.csrf import get_token

    if request.method == "POST":
        return HttpResponse(status=302, headers={"Location": "/_bench/floor/"})
    return HttpResponse(f'<form method="post"><input name="csrfmiddlewaretoken" value="{get_token(request)}"></form>')


def server_error(request):
    """Django's 500 handler (called while the error is being handled). A database that stopped
    answering outside a view, e.g. while a middleware saves the session, is a 503 to try again there too."""
    error = sys.exc_info()[1]
    if is_database_unavailable(error):
        return database_unavailable(request, error)
    return defaults.server_error(request)
