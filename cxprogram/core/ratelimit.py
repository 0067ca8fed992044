"""Counters for rate-limiting public endpoints: a fixed window that starts at the first hit.

On Redis both the window's start and the count are one round trip for all counters of a request (a
pipeline on one kept client: Django's Redis cache builds a new client object per call, which cost the
public survey more than its own queries). Elsewhere (the embedded default) Django's cache does it."""

from functools import cache as memoize

from django.conf import settings
from django.core.cache import cache


@memoize
def _redis():
    if not settings.CACHES["default"]["BACKEND"].endswith("RedisCache"):
        return None
    import redis

    return redis.Redis.from_url(settings.CACHES["default"]["LOCATION"])


def over_limit(limits: dict[str, int], window: int = 60) -> bool:
    """Count one hit on each key of `limits` (key → hits allowed per window); True if any is over."""
    keys = [f"cx:rl:{key}" for key in limits]
    client = _redis()
    if client is not None:
        pipe = client.pipeline(transaction=False)
        for key in keys:
            pipe.set(key, 0, ex=window, nx=True)
            pipe.incr(key)
        counts = pipe.execute()[1::2]
    else:
        counts = []
        for key in keys:
            cache.add(key, 0, timeout=window)
            try:
                counts.append(cache.incr(key))
            except ValueError:  # evicted between add and incr
                counts.append(1)
    return any(count > allowed for count, allowed in zip(counts, limits.values(), strict=True))
