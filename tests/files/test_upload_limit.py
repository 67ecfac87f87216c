"""The served app refuses an upload too large by its stated size, before
reading it: the ASGI server answers 413 at once although not a byte of the
body was sent, and 411 to a body of unstated length."""

import socket
from urllib.parse import urlsplit

import pytest
from django.conf import settings

pytestmark = pytest.mark.django_db(transaction=True)


def answer_to_headers_alone(live_server_url: str, headers: str) -> str:
    """Send a request's head and no body; what the server says back."""
    address = urlsplit(live_server_url)
    with socket.create_connection((address.hostname, address.port), timeout=10) as connection:
        connection.sendall(f"POST /c/00000000-0000-0000-0000-000000000000/files/ HTTP/1.1\r\n"
                           f"Host: {address.netloc}\r\n{headers}\r\n".encode())
        reply = b""
        while chunk := connection.recv(4096):  # the server closes the connection after its answer
            reply += chunk
        return reply.decode()


def test_an_upload_larger_than_allowed_is_refused_before_its_body_is_read(live_server_url):
    too_large = settings.MUSE_FILE_MAX_BYTES * 50

    reply = answer_to_headers_alone(
        live_server_url, f"Content-Type: multipart/form-data; boundary=x\r\nContent-Length: {too_large}\r\n")

    assert reply.startswith("HTTP/1.1 413 ")
    assert "That upload is too large" in reply


def test_an_upload_of_unstated_length_is_refused(live_server_url):
    reply = answer_to_headers_alone(
        live_server_url, "Content-Type: multipart/form-data; boundary=x\r\nTransfer-Encoding: chunked\r\n")

    assert reply.startswith("HTTP/1.1 411 ")
