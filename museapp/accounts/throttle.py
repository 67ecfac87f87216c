"""Log-in throttling: after too many failed attempts for one username
(case-insensitive, ``MUSE_LOGIN_ATTEMPTS``) or from one client address
(``MUSE_LOGIN_ATTEMPTS_PER_IP``), the form stops checking passwords until the
window ends. A successful log-in clears the username's count."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.http import HttpRequest

from museapp.ops import ratelimit
from museapp.ops.redis_client import redis_key


def _username_counter(username: str) -> ratelimit.Counter | None:
    rate = ratelimit.parse_rate(settings.MUSE_LOGIN_ATTEMPTS, "MUSE_LOGIN_ATTEMPTS")
    if rate is None:
        return None
    # Hashed: any text fits in a key, and Redis holds no usernames.
    digest = hashlib.sha256(username.strip().casefold().encode()).hexdigest()[:32]
    return ratelimit.Counter(redis_key("login", "user", digest), rate)


def _address_counter(request: HttpRequest) -> ratelimit.Counter | None:
    rate = ratelimit.parse_rate(settings.MUSE_LOGIN_ATTEMPTS_PER_IP, "MUSE_LOGIN_ATTEMPTS_PER_IP")
    address = request.META.get("REMOTE_ADDR") or ""
    if rate is None or not address:
        return None
    return ratelimit.Counter(redis_key("login", "ip", address), rate)


def _counters(request: HttpRequest, username: str) -> list[ratelimit.Counter]:
    return [c for c in (_username_counter(username), _address_counter(request)) if c is not None]


def login_wait_minutes(*, request: HttpRequest, username: str) -> int:
    """Minutes until this username may try again from this address; 0: now."""
    full = ratelimit.peek(_counters(request, username))
    return full.minutes if full else 0


def login_failed(*, request: HttpRequest, username: str) -> None:
    ratelimit.add(_counters(request, username))


def login_succeeded(*, username: str) -> None:
    counter = _username_counter(username)
    ratelimit.reset([counter] if counter else [])
