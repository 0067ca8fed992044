"""When the database does not answer (a restart, a failover, a dropped connection), a request gets a
friendly 503 asking to try again, never a 500. The request's transaction is rolled back (only a
connection lost during the COMMIT itself leaves the outcome unknown, so a marked view must be safe to
send twice, as the survey's submit is: a second submit updates the one response).

A view marked with `retry_keeps_post` gets a retry button that posts the same fields again, so a
client's survey answers survive the outage without the database."""

import logging

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.utils.cache import add_never_cache_headers

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5


def retry_keeps_post(view):
    """Mark a view whose POST may be sent again as it was (its fields are shown back on the 503 page)."""
    view.retry_keeps_post = True
    return view


def is_database_unavailable(error: BaseException | None) -> bool:
    return isinstance(error, OperationalError | InterfaceError)


def database_unavailable(request, error: BaseException) -> HttpResponse:
    """The 503 to try again: in the API's error format under /api/, else the retry page."""
    logger.warning("Database unavailable during %s %s: %s", request.method, request.path, error)
    if request.path.startswith("/api/"):
        body = {"code": "unavailable", "message": "The service is briefly unavailable; try again.", "fields": {}}
        response = JsonResponse({"error": body}, status=503)
    else:
        # Rendered without context processors: they may read the session or memberships, i.e. the database.
        view = getattr(request.resolver_match, "func", None)
        keep = request.method == "POST" and getattr(view, "retry_keeps_post", False)
        fields = [(k, v) for k, values in request.POST.lists() if k != "csrfmiddlewaretoken" for v in values]
        context = {
            "csrf_token": get_token(request),
            "path": request.get_full_path(),
            "fields": fields if keep else None,
            "was_post": request.method == "POST",
        }
        response = HttpResponse(render_to_string("503.html", context), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    add_never_cache_headers(response)
    return response


class DatabaseUnavailableMiddleware:
    """Errors raised in views. Those raised in other middleware (saving the session, say) reach Django's
    500 handler, which gives the same answer (cxprogram.core.views.server_error)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        return database_unavailable(request, exception) if is_database_unavailable(exception) else None
