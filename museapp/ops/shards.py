"""Which stream Redis server holds what, when stream state is spread over
several (``STREAM_REDIS_URLS``): a consistent-hash ring. Each name (a
stream's, a conversation's group, a person's) lands on one server, always
the same one in every process, and adding a server moves only about 1/N of
the names. Muse's own keys and the channel layer's groups use the same ring.

Hand-written (a sorted list and a bisect): a ring library would be a
dependency for twenty lines, and the channel layer has to call it too."""

from __future__ import annotations

import bisect
import functools
import hashlib
from collections.abc import Callable, Iterable, Sequence
from typing import TypeVar

POINTS_PER_SERVER = 160  # virtual nodes: with 2-8 servers, each holds its share within a few per cent

T = TypeVar("T")


def _hash(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")


class Ring:
    def __init__(self, urls: Sequence[str]):
        if not urls:
            raise ValueError("a ring needs at least one server")
        self.urls = tuple(urls)
        points = sorted((_hash(f"{url}#{i}"), url) for url in self.urls for i in range(POINTS_PER_SERVER))
        self._points = [point for point, _url in points]
        self._owners = [url for _point, url in points]

    def url_for(self, name: str) -> str:
        if len(self.urls) == 1:
            return self.urls[0]
        index = bisect.bisect(self._points, _hash(name)) % len(self._points)
        return self._owners[index]

    def split(self, items: Iterable[T], name: Callable[[T], str]) -> dict[str, list[T]]:
        """``items`` grouped by the server their name lands on, for commands
        that take many keys at once (MGET, DEL, a pipeline)."""
        groups: dict[str, list[T]] = {}
        for item in items:
            groups.setdefault(self.url_for(name(item)), []).append(item)
        return groups


@functools.lru_cache(maxsize=8)
def ring_of(urls: tuple[str, ...]) -> Ring:
    return Ring(urls)
