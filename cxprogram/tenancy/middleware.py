from django.utils import timezone

from .context import deactivate


class TenantContextMiddleware:
    """No organization (nor its time zone) is current at the start or after the end of a request;
    tenant views set them."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        deactivate()
        request.organization = None
        request.membership = None
        try:
            return self.get_response(request)
        finally:
            deactivate()
            timezone.deactivate()
