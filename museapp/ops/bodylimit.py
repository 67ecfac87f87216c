"""A request body limit enforced before a byte of the body is read.

Django's ASGI handler reads a whole body (to a temporary file) before any
view runs, so a view's own check comes after a gigabyte has been taken in.
This ASGI middleware answers 413 from the request's Content-Length alone,
for the paths given, and 411 to a body of unstated length there."""

from __future__ import annotations

import re


class BodyLimit:
    def __init__(self, app, *, max_bytes: int, paths: str):
        self.app = app
        self.max_bytes = max_bytes
        self.paths = re.compile(paths)

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["method"] not in ("GET", "HEAD") and self.paths.match(scope["path"]):
            length = _content_length(scope)
            if length is None and _has_body(scope):
                return await _answer(send, 411, "Say how large the upload is (Content-Length).")
            if length is not None and length > self.max_bytes:
                return await _answer(send, 413, f"That upload is too large: at most {self.max_bytes:,} bytes.")
        return await self.app(scope, receive, send)


def _content_length(scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _has_body(scope) -> bool:
    return any(name == b"transfer-encoding" for name, _ in scope.get("headers", []))


async def _answer(send, status: int, text: str) -> None:
    body = text.encode()
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode()),
        (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})
