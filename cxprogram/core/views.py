from django.conf import settings
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render

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
