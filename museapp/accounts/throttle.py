"""Log-in and sign-up throttling.

After too many failed log-ins for one username (case-insensitive,
``MUSE_LOGIN_ATTEMPTS``) or from one client address
(``MUSE_LOGIN_ATTEMPTS_PER_IP``), the form stops checking passwords until the
window ends. A successful log-in clears the username's count.

One client address may create ``MUSE_SIGNUPS_PER_IP`` accounts per window;
only successful sign-ups count."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.http import HttpRequest

from museapp.ops import ratelimit
from museapp.ops.redis_client import redis_key

# Log-in and sign-up counters (by username and by address, counted together)
# all live on one stream Redis server: they are few, and checked as one.
PLACE = "accounts"


def _username_counter(username: str) -> ratelimit.Counter | None:
    rate = ratelimit.parse_rate(settings.MUSE_LOGIN_ATTEMPTS, "MUSE_LOGIN_ATTEMPTS")
    if rate is None:
        return None
    # Hashed: any text fits in a key, and Redis holds no usernames.
    digest = hashlib.sha256(username.strip().casefold().encode()).hexdigest()[:32]
    return ratelimit.Counter(redis_key("login", "user", digest), rate, PLACE)


def _address_counter(request: HttpRequest, *, setting: str, action: str) -> ratelimit.Counter | None:
    """The client address as the ASGI server reports it (behind a proxy, the
    one uvicorn's --proxy-headers took from it: see README, "Security")."""
    rate = ratelimit.parse_rate(getattr(settings, setting), setting)
    address = request.META.get("REMOTE_ADDR") or ""
    if rate is None or not address:
        return None
    return ratelimit.Counter(redis_key(action, "ip", address), rate, PLACE)


def _counters(request: HttpRequest, username: str) -> list[ratelimit.Counter]:
    by_address = _address_counter(request, setting="MUSE_LOGIN_ATTEMPTS_PER_IP", action="login")
    return [c for c in (_username_counter(username), by_address) if c is not None]


def login_wait_minutes(*, request: HttpRequest, username: str) -> int:
    """Minutes until this username may try again from this address; 0: now."""
    full = ratelimit.peek(_counters(request, username))
    return full.minutes if full else 0


def login_failed(*, request: HttpRequest, username: str) -> None:
    ratelimit.add(_counters(request, username))


def login_succeeded(*, username: str) -> None:
    counter = _username_counter(username)
    ratelimit.reset([counter] if counter else [])


def _signup_counters(request: HttpRequest) -> list[ratelimit.Counter]:
    counter = _address_counter(request, setting="MUSE_SIGNUPS_PER_IP", action="signup")
    return [counter] if counter else []


def signup_wait_minutes(*, request: HttpRequest) -> int:
    """Minutes until this address may create another account; 0: now."""
    full = ratelimit.peek(_signup_counters(request))
    return full.minutes if full else 0


def signup_succeeded(*, request: HttpRequest) -> None:
    ratelimit.add(_signup_counters(request))
