"""Fixed-window counters in Redis, shared by the chat's per-person limits and
the log-in throttle.

A rate reads ``<count>/<unit>`` (``30/min``, ``30/hour``) or, with a window
of several units, ``5/15min``; ``off`` disables it. Each counter is one Redis
key that expires when its window ends, so a burst at a window's edge may get
up to twice the count: simple, and enough to stop abuse.

One Lua script checks and counts several counters at once, atomically: a turn
refused by one limit counts against none, and concurrent requests cannot both
take the last slot.

Redis trouble never locks anyone out: the check lets the request through and
logs a warning (fail open).
"""

from __future__ import annotations

import functools
import logging
import math
import re
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from redis.exceptions import RedisError

from museapp.ops import redis_client

log = logging.getLogger(__name__)

UNITS = {
    "s": 1, "sec": 1, "second": 1,
    "m": 60, "min": 60, "minute": 60,
    "h": 3600, "hour": 3600,
    "d": 86400, "day": 86400,
}
UNIT_NAMES = {1: "second", 60: "minute", 3600: "hour", 86400: "day"}
RATE = re.compile(r"^(\d+)/(\d*)([a-z]+)$")
OFF = {"off", "none", "0", "false", "no"}


@dataclass(frozen=True)
class Rate:
    count: int
    seconds: int

    def __str__(self) -> str:
        """For people: "30 a minute", "30 an hour", "5 per 15 minutes"."""
        unit = UNIT_NAMES.get(self.seconds)
        if unit:
            return f"{self.count} {'an' if unit == 'hour' else 'a'} {unit}"
        for size in (86400, 3600, 60):
            if self.seconds % size == 0:
                return f"{self.count} per {self.seconds // size} {UNIT_NAMES[size]}s"
        return f"{self.count} per {self.seconds} seconds"


@functools.lru_cache(maxsize=32)
def parse_rate(value: str, name: str = "rate") -> Rate | None:
    """``"30/min"`` -> Rate(30, 60); ``"off"`` -> None."""
    text = value.strip().lower().replace(" ", "")
    if text in OFF:
        return None
    match = RATE.match(text)
    unit = match and match.group(3)
    if unit and unit not in UNITS and len(unit) > 3 and unit.endswith("s"):
        unit = unit[:-1]  # "hours", "mins", "secs"
    if match is None or unit not in UNITS or int(match.group(1)) < 1:
        raise ImproperlyConfigured(
            f"{name}={value!r}: expected <count>/<sec|min|hour|day> (for example 30/min or 5/15min), or off"
        )
    count, multiple = match.group(1), match.group(2)
    return Rate(int(count), int(multiple or 1) * UNITS[unit])


@dataclass(frozen=True)
class Counter:
    key: str  # made with redis_client.redis_key
    rate: Rate
    place: str  # where the key lives (redis_client.client's ``on``): one for the counters counted together


@dataclass(frozen=True)
class Full:
    """A counter at its limit, and how long until its window ends."""

    counter: Counter
    retry_after: float  # seconds

    def wait_text(self) -> str:
        """"42 s", "12 min", "3 h": rounded up, never "0"."""
        seconds = max(1, math.ceil(self.retry_after))
        if seconds < 90:
            return f"{seconds} s"
        if seconds < 90 * 60:
            return f"{math.ceil(seconds / 60)} min"
        return f"{math.ceil(seconds / 3600)} h"

    @property
    def minutes(self) -> int:
        return max(1, math.ceil(self.retry_after / 60))


# KEYS: the counters. ARGV[1]: "take" (check all, then count on all),
# "peek" (check only) or "add" (count only); then per counter its limit and
# window in milliseconds. Returns {0, 0} when allowed, else {index of the
# first full counter (1-based), milliseconds until its window ends}.
_SCRIPT = """
local mode = ARGV[1]
if mode ~= "add" then
  for i, key in ipairs(KEYS) do
    if tonumber(redis.call("GET", key) or "0") >= tonumber(ARGV[2 * i]) then
      local wait = redis.call("PTTL", key)
      if wait > 0 then return {i, wait} end
      redis.call("DEL", key)
    end
  end
end
if mode ~= "peek" then
  for i, key in ipairs(KEYS) do
    if redis.call("INCR", key) == 1 or redis.call("PTTL", key) < 0 then
      redis.call("PEXPIRE", key, ARGV[2 * i + 1])
    end
  end
end
return {0, 0}
"""


def _arguments(mode: str, counters: list[Counter]) -> list:
    args: list = [mode]
    for counter in counters:
        args += [counter.rate.count, counter.rate.seconds * 1000]
    return [len(counters), *[c.key for c in counters], *args]


def _verdict(counters: list[Counter], reply) -> Full | None:
    index, wait_ms = int(reply[0]), int(reply[1])
    return Full(counters[index - 1], wait_ms / 1000) if index else None


def person_counters(setting: str, bucket: str, user_id: int) -> list[Counter]:
    """One person's counter of the rate named ``setting`` (e.g.
    "MUSE_RATE_SHARING"), or none when that rate is off."""
    rate = parse_rate(getattr(settings, setting), setting)
    if rate is None:
        return []
    return [Counter(redis_client.redis_key("rate", bucket, str(user_id)), rate, redis_client.person(user_id))]


def _client(counters: list[Counter]):
    """The server of counters counted together (one script: one server)."""
    places = {counter.place for counter in counters}
    if len(places) != 1:
        raise ValueError(f"counters counted together must share a place, not {sorted(places)}")
    return redis_client.sync_client(places.pop())


def _fail_open(action: str) -> None:
    log.warning("rate limits unavailable (Redis) while trying to %s: letting the request through",
                action, exc_info=True)


def take(counters: list[Counter]) -> Full | None:
    """Count one request on every counter, unless one is full: then count
    nothing and say which. Sync: the turn services call it inside their
    transaction, from the state they have just read."""
    if not counters:
        return None
    try:
        reply = _client(counters).eval(_SCRIPT, *_arguments("take", counters))
    except (RedisError, OSError):  # OSError includes TimeoutError
        _fail_open("count a request")
        return None
    return _verdict(counters, reply)


def peek(counters: list[Counter]) -> Full | None:
    """Is one of these counters full? Counts nothing. Sync (views)."""
    if not counters:
        return None
    try:
        reply = _client(counters).eval(_SCRIPT, *_arguments("peek", counters))
    except (RedisError, OSError):
        _fail_open("check a limit")
        return None
    return _verdict(counters, reply)


def add(counters: list[Counter]) -> None:
    """Count one on every counter, full or not. Sync (views)."""
    if not counters:
        return
    try:
        _client(counters).eval(_SCRIPT, *_arguments("add", counters))
    except (RedisError, OSError):
        _fail_open("count a failure")


def reset(counters: list[Counter]) -> None:
    """Start these counters afresh. Sync (views)."""
    if not counters:
        return
    try:
        _client(counters).delete(*[c.key for c in counters])
    except (RedisError, OSError):
        _fail_open("reset a counter")
