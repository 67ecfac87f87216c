"""The chat socket opens only for a page from the exact origin (scheme, host
and port) it is served on, or one in CSRF_TRUSTED_ORIGINS: a page on another
port of the same host must not use a person's cookie to read and send."""

import http.server
import threading

import pytest
from channels.testing import WebsocketCommunicator

from museapp.asgi import application
from museapp.ops.origins import Origin, origin_allowed, parse_origin
from tests.browser.test_chat_flow import sign_up
from tests.sockets import knock, session_cookie


def socket_test(test):
    """A real consumer behind the real ASGI application (no worker needed)."""
    return pytest.mark.django_db(transaction=True)(pytest.mark.asyncio(test))


async def knock_without_origin(user, conversation_id) -> bool:
    """Like tests.sockets.knock, but with no Origin header at all."""
    headers = [(b"host", b"127.0.0.1:8000"), (b"cookie", f"sessionid={await session_cookie(user)}".encode())]
    communicator = WebsocketCommunicator(application, f"/ws/chat/{conversation_id}/", headers=headers)
    connected, _ = await communicator.connect(timeout=5)
    return connected


@pytest.mark.parametrize("origin", [b"http://127.0.0.1:8000", b"HTTP://127.0.0.1:8000"])
@socket_test
async def test_the_pages_own_origin_opens_the_socket(user, conversation, origin):
    socket, connected = await knock(user, conversation.pk, origin=origin)

    assert connected
    assert await socket.receive_nothing(timeout=0.3)  # not closed with 4401/4404: it is theirs
    await socket.disconnect()


@pytest.mark.parametrize("origin", [
    b"http://127.0.0.1:9999",  # same host, another port: the attack this guards against
    b"http://127.0.0.1",  # same host, port 80
    b"https://127.0.0.1:8000",  # same host and port, another scheme
    b"http://localhost:8000",  # in ALLOWED_HOSTS, but not the host this page was served from
    b"null",  # sandboxed frames, file: pages, some redirects
    b"http://127.0.0.1:8000/chat",  # not an origin
    b"http://evil@127.0.0.1:8000",
    b"ws://127.0.0.1:8000",
    b"",
])
@socket_test
async def test_any_other_origin_is_refused(user, conversation, origin):
    _socket, connected = await knock(user, conversation.pk, origin=origin)

    assert not connected


@socket_test
async def test_a_handshake_without_an_origin_is_refused(user, conversation):
    assert not await knock_without_origin(user, conversation.pk)


@socket_test
async def test_an_origin_in_csrf_trusted_origins_is_accepted_though_not_the_pages(user, conversation, settings):
    settings.CSRF_TRUSTED_ORIGINS = ["https://muse.example.com"]

    socket, connected = await knock(user, conversation.pk, origin=b"https://muse.example.com")
    await socket.disconnect()
    _socket, other_port = await knock(user, conversation.pk, origin=b"https://muse.example.com:8443")

    assert connected
    assert not other_port


@socket_test
async def test_a_host_not_in_allowed_hosts_is_refused_even_from_its_own_page(user, conversation, settings):
    settings.ALLOWED_HOSTS = ["muse.example.com"]

    _socket, connected = await knock(user, conversation.pk)  # Host and Origin: 127.0.0.1:8000

    assert not connected


# --- the rule alone, on handshake scopes ---------------------------------------


def handshake(origin: str | None, host: str | None = "muse.example.com", scheme: str = "wss", **headers) -> dict:
    sent = {"origin": origin, "host": host, **headers}
    return {
        "type": "websocket",
        "scheme": scheme,
        "headers": [(name.replace("_", "-").encode(), value.encode()) for name, value in sent.items() if value],
    }


@pytest.fixture
def production(settings):
    settings.ALLOWED_HOSTS = ["muse.example.com", ".muse.example.org"]
    settings.CSRF_TRUSTED_ORIGINS = []
    settings.DEBUG = False
    return settings


def test_default_ports_are_the_same_origin_as_none(production):
    assert origin_allowed(handshake("https://muse.example.com:443"))
    assert origin_allowed(handshake("https://muse.example.com", host="muse.example.com:443"))
    assert origin_allowed(handshake("http://muse.example.com:80", scheme="ws"))
    assert not origin_allowed(handshake("http://muse.example.com:443"))


def test_wss_is_an_https_page_and_ws_an_http_one(production):
    assert origin_allowed(handshake("https://muse.example.com", scheme="wss"))
    assert not origin_allowed(handshake("http://muse.example.com", scheme="wss"))
    assert not origin_allowed(handshake("https://muse.example.com", scheme="ws"))
    assert origin_allowed(handshake("http://muse.example.com", scheme="ws"))


def test_the_scheme_is_the_one_uvicorn_took_from_the_proxy(production):
    # --proxy-headers rewrites the scope's scheme; nothing else is needed.
    assert origin_allowed(handshake("https://muse.example.com", scheme="wss", x_forwarded_proto="https"))


def test_with_secure_proxy_ssl_header_the_proxy_says_the_scheme_as_for_forms(production):
    production.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

    assert origin_allowed(handshake("https://muse.example.com", scheme="ws", x_forwarded_proto="https"))
    assert not origin_allowed(handshake("http://muse.example.com", scheme="ws", x_forwarded_proto="https"))
    assert not origin_allowed(handshake("https://muse.example.com", scheme="wss", x_forwarded_proto="http"))


def test_subdomains_follow_allowed_hosts_patterns_but_only_their_own_origin(production):
    assert origin_allowed(handshake("https://a.muse.example.org", host="a.muse.example.org"))
    assert not origin_allowed(handshake("https://b.muse.example.org", host="a.muse.example.org"))


def test_trusted_origins_may_name_every_subdomain_as_django_allows(production):
    production.CSRF_TRUSTED_ORIGINS = ["https://*.example.net"]

    assert origin_allowed(handshake("https://app.example.net"))
    assert not origin_allowed(handshake("http://app.example.net"))
    assert not origin_allowed(handshake("https://app.example.net:8443"))
    assert not origin_allowed(handshake("https://*.example.net"))


def test_a_trusted_origin_still_needs_a_host_django_would_serve(production):
    production.CSRF_TRUSTED_ORIGINS = ["https://muse.example.com"]

    assert not origin_allowed(handshake("https://muse.example.com", host="evil.example"))
    assert not origin_allowed(handshake("https://muse.example.com", host=None))


def test_two_origin_or_host_headers_are_refused(production):
    two_origins, two_hosts = handshake("https://muse.example.com"), handshake("https://muse.example.com")
    two_origins["headers"].append((b"origin", b"https://evil.example"))
    two_hosts["headers"].append((b"host", b"evil.example"))

    assert not origin_allowed(two_origins)
    assert not origin_allowed(two_hosts)


def test_debug_with_no_allowed_hosts_serves_localhost_as_django_does(settings):
    settings.ALLOWED_HOSTS = []
    settings.DEBUG = True

    assert origin_allowed(handshake("http://localhost:8000", host="localhost:8000", scheme="ws"))
    assert origin_allowed(handshake("http://[::1]:8000", host="[::1]:8000", scheme="ws"))


def test_an_origin_is_parsed_to_scheme_host_and_port():
    assert parse_origin("HTTP://Muse.Example.com") == Origin("http", "muse.example.com", 80)
    assert parse_origin("https://[::1]:8443") == Origin("https", "[::1]", 8443)
    for text in ("null", "", "muse.example.com", "ftp://muse.example.com", "https://a.example/",
                 "https://user@a.example", "https://*.example.net", "https://.example.net"):
        assert parse_origin(text) is None, text
    assert parse_origin("https://*.example.net", pattern=True) == Origin("https", ".example.net", 443)


# --- in a browser: the attack itself ------------------------------------------

OPEN_SOCKET = """(target) => new Promise((resolve) => {
  const socket = new WebSocket(target);
  socket.onopen = () => { resolve("open"); socket.close(); };
  socket.onclose = (event) => resolve(`closed ${event.code}`);
})"""


@pytest.fixture
def page_on_another_port():
    """A page served from 127.0.0.1 on another port: the same site to the
    browser, so it sends Muse's session cookie along."""
    class Blank(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(b"<!doctype html><title>elsewhere</title>")

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Blank)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_page_on_another_port_cannot_open_a_logged_in_persons_socket(page, page_on_another_port):
    sign_up(page, "olive")
    socket_url = "ws" + page.url.removeprefix("http").replace("/c/", "/ws/chat/", 1)

    assert page.evaluate(OPEN_SOCKET, socket_url) == "open"  # from Muse's own page

    page.goto(page_on_another_port)
    assert page.evaluate(OPEN_SOCKET, socket_url) == "closed 1006"  # the handshake was refused
