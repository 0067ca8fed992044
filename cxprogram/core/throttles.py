from rest_framework.throttling import SimpleRateThrottle

from cxprogram.accounts.models import ApiToken


class ApiTokenThrottle(SimpleRateThrottle):
    """Calls made with a personal API token are limited per token (browser sessions are not)."""

    scope = "api_token"

    def get_cache_key(self, request, view):
        if not isinstance(request.auth, ApiToken):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.auth.pk}
