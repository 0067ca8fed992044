"""Counters for rate-limiting public endpoints: a fixed window that starts at the first hit.

On Redis all counters of a request are one command (a Lua script) on one kept client: Django's Redis
cache builds a new client object per call, which cost the public survey more than its own queries, and
a pipeline of four commands for two counters cost it twice what one script does. Elsewhere (the embedded
default) Django's cache does it."""

from functools import cache as memoize

from django.conf import settings
from django.core.cache import cache

KEY_PREFIX = "cx:rl:"

# KEYS: the counters; ARGV: the window in seconds, then each counter's hits allowed. Returns 1 if any is over.
COUNT_HITS = """
local over = 0
for i, key in ipairs(KEYS) do
  local hits = redis.call('INCR', key)
  if hits == 1 then redis.call('EXPIRE', key, ARGV[1]) end
  if hits > tonumber(ARGV[i + 1]) then over = 1 end
end
return over
"""


@memoize
def _count_hits():
    """The script on a kept client, or None when the cache is not Redis."""
    if not settings.CACHES["default"]["BACKEND"].endswith("RedisCache"):
        return None
    import redis

    return redis.Redis.from_url(settings.CACHES["default"]["LOCATION"]).register_script(COUNT_HITS)


def over_limit(limits: dict[str, int], window: int = 60) -> bool:
    """Count one hit on each key of `limits` (key → hits allowed per window); True if any is over."""
    keys = [KEY_PREFIX + key for key in limits]
    count_hits = _count_hits()
    if count_hits is not None:
        return bool(count_hits(keys=keys, args=[window, *limits.values()]))
    counts = []
    for key in keys:
        cache.add(key, 0, timeout=window)
        try:
            counts.append(cache.incr(key))
        except ValueError:  # evicted between add and incr
            counts.append(1)
    return any(count > allowed for count, allowed in zip(counts, limits.values(), strict=True))
