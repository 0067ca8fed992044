from .context import deactivate


class TenantContextMiddleware:
    """No organization is current at the start or after the end of a request; tenant views set it."""

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
