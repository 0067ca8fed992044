from django.conf import settings
from django.db import connection, transaction
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


@transaction.non_atomic_requests
@require_GET
@never_cache
def healthz(request):
    """The process answers."""
    return JsonResponse({"status": "ok"})


def _check_database() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True
    except Exception:
        return False


def _check_broker() -> bool:
    if not settings.REDIS_URL:
        return True  # the embedded default runs tasks eagerly: there is no broker to reach
    import redis

    try:
        return bool(redis.Redis.from_url(settings.REDIS_URL, socket_timeout=1, socket_connect_timeout=1).ping())
    except Exception:
        return False


@transaction.non_atomic_requests
@require_GET
@never_cache
def readyz(request):
    """Database and broker reachable: 200, otherwise 503 with which one is down."""
    checks = {"database": _check_database(), "broker": _check_broker()}
    ok = all(checks.values())
    return JsonResponse(
        {"status": "ok" if ok else "unavailable", "checks": {k: "ok" if v else "down" for k, v in checks.items()}},
        status=200 if ok else 503,
    )
