"""The chat socket accepts only pages from an exact origin (scheme, host and
port): the page's own, or one listed in ``CSRF_TRUSTED_ORIGINS``.

Channels' ``AllowedHostsOriginValidator`` compares the host alone, so a page
on another port of the same machine (``http://localhost:9999``) could open a
person's socket with their cookie. Browsers send cookies to every port of a
host, so only the full origin tells the pages apart.

The page's own origin is the one Django's CSRF check uses for forms: the
handshake's scheme (``wss`` is https; with ``SECURE_PROXY_SSL_HEADER`` the
proxy's word, as for ``request.scheme``) and its Host header, which must be
one ``ALLOWED_HOSTS`` allows. ``http://host`` equals ``http://host:80``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.conf import settings
from django.http.request import split_domain_port, validate_host
from django.utils.http import is_same_domain

log = logging.getLogger(__name__)

DEFAULT_PORTS = {"http": 80, "https": 443}
# What Django's request.get_host() allows when DEBUG is on and ALLOWED_HOSTS empty.
DEBUG_HOSTS = [".localhost", "127.0.0.1", "[::1]"]


@dataclass(frozen=True)
class Origin:
    scheme: str  # http or https
    host: str  # lowercased; IPv6 in brackets; ".example.com" for a trusted "*.example.com"
    port: int


def parse_origin(text: str, *, pattern: bool = False) -> Origin | None:
    """``"http://Host:8000"`` -> Origin("http", "host", 8000); None for
    ``null``, other schemes, paths or user info. ``pattern`` allows a
    leading ``*.`` (all subdomains), as ``CSRF_TRUSTED_ORIGINS`` does."""
    scheme, separator, netloc = text.lower().partition("://")
    if not separator or scheme not in DEFAULT_PORTS:
        return None
    wildcard = pattern and netloc.startswith("*.")
    host, port = split_domain_port(netloc[1:] if wildcard else netloc)
    if not host or (host.startswith(".") and not wildcard):
        return None
    return Origin(scheme, host, int(port) if port else DEFAULT_PORTS[scheme])


def _matches(origin: Origin, allowed: Origin) -> bool:
    return (origin.scheme == allowed.scheme and origin.port == allowed.port
            and is_same_domain(origin.host, allowed.host))


def _headers(scope: dict, name: bytes) -> list[str]:
    return [value.decode("latin-1") for key, value in scope.get("headers", ()) if key == name]


def _scheme(scope: dict) -> str:
    """http or https, as Django's ``request.scheme`` would say."""
    if settings.SECURE_PROXY_SSL_HEADER:
        header, secure_value = settings.SECURE_PROXY_SSL_HEADER
        values = _headers(scope, header.removeprefix("HTTP_").replace("_", "-").lower().encode())
        if values:
            return "https" if values[0].split(",", 1)[0].strip() == secure_value else "http"
    return "https" if scope.get("scheme", "ws") in {"wss", "https"} else "http"


def page_origin(scope: dict) -> Origin | None:
    """The origin of the page that asked, judged from the handshake itself;
    None when its Host is missing, doubled or not allowed."""
    hosts = _headers(scope, b"host")
    if len(hosts) != 1:
        return None
    origin = parse_origin(f"{_scheme(scope)}://{hosts[0]}")
    allowed_hosts = settings.ALLOWED_HOSTS or (DEBUG_HOSTS if settings.DEBUG else [])
    if origin is None or not validate_host(origin.host, allowed_hosts):
        return None
    return origin


def origin_allowed(scope: dict) -> bool:
    """One Origin header, from the page's own origin or a trusted one, and a
    Host that Django would serve."""
    origins = _headers(scope, b"origin")
    origin = parse_origin(origins[0]) if len(origins) == 1 else None
    page = page_origin(scope)
    if origin is None or page is None:
        return False
    trusted = (parse_origin(text, pattern=True) for text in settings.CSRF_TRUSTED_ORIGINS)
    return origin == page or any(allowed and _matches(origin, allowed) for allowed in trusted)


class ExactOriginValidator:
    """ASGI middleware for WebSockets: hands the connection on only if
    ``origin_allowed``, else closes the handshake (the client sees HTTP 403)."""

    def __init__(self, application):
        self.application = application

    async def __call__(self, scope, receive, send):
        if scope["type"] != "websocket":
            raise ValueError("ExactOriginValidator only guards WebSocket connections")
        if origin_allowed(scope):
            return await self.application(scope, receive, send)
        log.warning("chat socket refused: Origin %r is neither the page's own (Host %r) nor trusted",
                    _headers(scope, b"origin"), _headers(scope, b"host"))
        # What Channels' WebsocketDenier sends, without being a consumer: one
        # would subscribe to the channel layer for every refused handshake.
        if (await receive())["type"] == "websocket.connect":
            await send({"type": "websocket.close"})
