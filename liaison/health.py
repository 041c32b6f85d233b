"""Is background work possible right now? For the pages that start it. No app is imported here.

Background jobs (the roster import of a large file, the matching, the evaluation, a large
export) go through the Celery broker, Redis. Without a broker at all (`CELERY_TASK_ALWAYS_EAGER`,
the embedded default) they run in the request, so they are always available. With one,
`background_available()` pings it with a short timeout and remembers the answer for
`REMEMBER_SECONDS` per process, so a page may ask on every request.
"""

from __future__ import annotations

import logging
import threading
import time

from django.conf import settings
from redis import Redis
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

REMEMBER_SECONDS = 5.0

_answers: dict[str, tuple[float, bool]] = {}
_lock = threading.Lock()


def _broker() -> tuple[bool, str]:
    from liaison.celery import app  # the project's Celery app, not an app of the design card

    return bool(app.conf.task_always_eager), str(app.conf.broker_url or "")


def background_available() -> bool:
    """True when a job asked for now can be handed to a worker (or runs in the request anyway)."""
    eager, url = _broker()
    if eager or not url.startswith(("redis://", "rediss://", "unix://")):
        return True
    now = time.monotonic()
    remembered = _answers.get(url)
    if remembered is not None and remembered[0] > now:
        return remembered[1]
    available = _ping(url)
    with _lock:
        _answers[url] = (now + REMEMBER_SECONDS, available)
    return available


def _ping(url: str) -> bool:
    timeout = settings.CACHE_SOCKET_TIMEOUT
    client = Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
    try:
        return bool(client.ping())
    except (RedisError, OSError):
        logger.warning("The Celery broker (Redis) is unavailable: background work cannot start", exc_info=True)
        return False
    finally:
        client.close()
