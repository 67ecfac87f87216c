"""Downloads built as they are sent: the same lines served to either kind of
server, each the way it sends as it goes (Django reads the other kind of
iterator whole first, and warns)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from itertools import islice

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpRequest

LINES_PER_PART = 500  # lines built per hop to the database thread when streaming to an ASGI server


async def in_parts(lines: Iterator[str], *, per_part: int = LINES_PER_PART) -> AsyncIterator[str]:
    """``lines`` for an ASGI server, ``per_part`` lines at a time. Each part
    is built in this request's database thread (a cursor lives on its
    connection), so the event loop never waits on the database."""
    next_part = sync_to_async(lambda: list(islice(lines, per_part)))
    try:
        while part := await next_part():
            yield "".join(part)
    finally:  # a download cut short closes its cursors, in their own thread
        await sync_to_async(lines.close)()


def served_as_it_goes(request: HttpRequest, lines: Iterator[str], *,
                      per_part: int = LINES_PER_PART) -> Iterator[str] | AsyncIterator[str]:
    """What a StreamingHttpResponse should be given for ``lines``: the lines
    themselves under WSGI, parts of them under ASGI."""
    return in_parts(lines, per_part=per_part) if isinstance(request, ASGIRequest) else lines
