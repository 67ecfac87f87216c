"""The database going away for a while (PostgreSQL restarting, failing over):
workers keep what they must save and save it when it is back; pages say
what is wrong instead of failing with a 500."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable
from typing import TypeVar

from django.conf import settings
from django.db import InterfaceError, OperationalError, close_old_connections
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.views import defaults

log = logging.getLogger(__name__)

# What Django raises when the database cannot be reached (refused, reset,
# shutting down, a pooled connection broken by a restart).
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError)

UNAVAILABLE_TEXT = "Muse can't reach its database right now. Nothing is lost: try again in a moment."

T = TypeVar("T")


def through_outage(save: Callable[..., T], /, *args, **kwargs) -> T:
    """Call ``save`` (a worker's save of what it streamed: one transaction),
    trying again with backoff while the database is unreachable, for up to
    ``MUSE_DB_OUTAGE_SECONDS``. Meanwhile the stream's lease is still renewed
    and its text is still in Redis, so neither the reaper nor a reloading
    page loses it."""
    deadline = time.monotonic() + settings.MUSE_DB_OUTAGE_SECONDS
    pause = 0.5
    while True:
        try:
            return save(*args, **kwargs)
        except DATABASE_UNAVAILABLE:
            if time.monotonic() + pause > deadline:
                raise
            log.warning("the database is unreachable; saving %s again in %.1f s",
                        getattr(save, "__name__", save), pause, exc_info=True)
            close_old_connections()  # drop the broken connection: the next try opens a new one
            time.sleep(pause)
            pause = min(pause * 2, 5.0)


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: an unreachable database is a 503 with a page that says
    so (and reads nothing from the database); anything else Django's 500."""
    if isinstance(sys.exc_info()[1], DATABASE_UNAVAILABLE):
        response = HttpResponse(render_to_string("unavailable.html", {"text": UNAVAILABLE_TEXT}), status=503)
        response["Retry-After"] = "5"
        return response
    return defaults.server_error(request)
