"""The shared cache, which degrades instead of failing when Redis is down. No app is imported here.

Nothing Liaison keeps in the cache is the only copy of anything: a running job's progress
(its row catches up when the job commits) and the survey page's rate limit (the links
themselves answer once, `reports.services.survey_answer`). So a cache that cannot be
reached must cost a page nothing but that optimisation. `DegradingRedisCache` is Django's
own `RedisCache` whose every operation, when Redis cannot be reached, logs a warning and
answers as an empty cache would: `get` gives the default, `add`/`set`/`delete` store
nothing, `incr` raises `ValueError` as for a missing key (django-ratelimit then fails
open, `RATELIMIT_FAIL_OPEN`).

A dead Redis costs milliseconds, not seconds: the connection has short socket timeouts
(`CACHE_SOCKET_TIMEOUT`, in the settings' `OPTIONS`), and after one failure the process
leaves Redis alone for `RETRY_AFTER` seconds instead of paying the timeout on every call.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

T = TypeVar("T")

# Seconds a process leaves an unreachable Redis alone before trying it again.
RETRY_AFTER = 5.0
# Connection refused, reset, timed out, DNS: what an unreachable or dying Redis raises.
UNAVAILABLE = (RedisError, OSError)

# Per process and per server, shared by the per-thread cache objects Django makes.
_down_until: dict[str, float] = {}
_lock = threading.Lock()


def redis_cache(url: str, *, socket_timeout: float) -> dict[str, Any]:
    """The `CACHES` entry of the shared cache on the Redis at `url` (the settings and the tests use it)."""
    return {
        "BACKEND": "liaison.cache.DegradingRedisCache",
        "LOCATION": url,
        "OPTIONS": {"socket_connect_timeout": socket_timeout, "socket_timeout": socket_timeout},
    }


def cache_is_down(location: str) -> bool:
    """Whether this process is currently leaving the cache at `location` alone after a failure."""
    return time.monotonic() < _down_until.get(location, 0.0)


class DegradingRedisCache(RedisCache):
    """Django's RedisCache that answers as an empty cache, with a warning, while Redis is unreachable."""

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._location = server if isinstance(server, str) else ",".join(server)

    def _guard(self, operation: str, call: Callable[[], T], fallback: Callable[[], T]) -> T:
        if cache_is_down(self._location):
            return fallback()
        try:
            return call()
        except UNAVAILABLE:
            with _lock:
                first = not cache_is_down(self._location)
                _down_until[self._location] = time.monotonic() + RETRY_AFTER
            if first:
                logger.warning(
                    "The cache (Redis) is unavailable during %s; going on without it for %s s",
                    operation,
                    RETRY_AFTER,
                    exc_info=True,
                )
            return fallback()

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._guard("add", lambda: super(DegradingRedisCache, self).add(key, value, timeout, version), _false)

    def get(self, key, default=None, version=None):
        return self._guard("get", lambda: super(DegradingRedisCache, self).get(key, default, version), lambda: default)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        self._guard("set", lambda: super(DegradingRedisCache, self).set(key, value, timeout, version), _none)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self._guard("touch", lambda: super(DegradingRedisCache, self).touch(key, timeout, version), _false)

    def delete(self, key, version=None):
        return self._guard("delete", lambda: super(DegradingRedisCache, self).delete(key, version), _false)

    def get_many(self, keys, version=None):
        return self._guard("get_many", lambda: super(DegradingRedisCache, self).get_many(keys, version), dict)

    def has_key(self, key, version=None):
        return self._guard("has_key", lambda: super(DegradingRedisCache, self).has_key(key, version), _false)

    def incr(self, key, delta=1, version=None):
        def missing() -> int:
            raise ValueError(f"Key '{key}' not found (the cache is unavailable).")

        return self._guard("incr", lambda: super(DegradingRedisCache, self).incr(key, delta, version), missing)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        return self._guard(
            "set_many", lambda: super(DegradingRedisCache, self).set_many(data, timeout, version), lambda: list(data)
        )

    def delete_many(self, keys, version=None):
        self._guard("delete_many", lambda: super(DegradingRedisCache, self).delete_many(keys, version), _none)

    def clear(self):
        return self._guard("clear", lambda: super(DegradingRedisCache, self).clear(), _false)


def _false() -> bool:
    return False


def _none() -> None:
    return None
