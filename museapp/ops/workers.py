"""Waiting for Celery workers to be ready, for `manage.py serve`, the
benchmarks and anything else that starts workers itself."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from celery import current_app as app  # museapp's, once Django loaded museapp/__init__.py
from django.conf import settings
from kombu.exceptions import OperationalError

log = logging.getLogger(__name__)

PING = "muse.ping"  # museapp/celery.py


def wait_until_consuming(check: Callable[[], None], *, count: int = 1, timeout: float = 90.0) -> None:
    """Round-trip the no-op task (a worker is consuming once it answers),
    then, with several workers, wait until each answers a control ping.
    ``check`` raises if a started process has died meanwhile."""
    deadline = time.monotonic() + timeout
    result = app.send_task(PING)
    while True:
        check()
        try:
            result.get(timeout=0.5)
            break
        except Exception:  # noqa: BLE001 - a timeout: keep waiting
            if time.monotonic() > deadline:
                raise TimeoutError("no worker answered muse.ping in time") from None
    while count > 1 and len(app.control.ping(timeout=0.5)) < count:
        check()
        if time.monotonic() > deadline:
            raise TimeoutError(f"not all {count} workers started in time")


def hand_on(task, **kwargs) -> bool:
    """Send ``task`` from a worker even while the broker is away for a moment
    (restarting): tried again with backoff for up to ``MUSE_QUEUE_GRACE``
    less 5 s, the reservation that keeps the reaper off the run meanwhile.
    (Celery's publish retry policy does not cover a connection refused while
    reconnecting: kombu raises that before the policy applies.) A page's own
    sends fail fast instead: a request must not hang on the broker.
    Returns whether it had to wait."""
    deadline = time.monotonic() + max(1.0, settings.MUSE_QUEUE_GRACE - 5)
    pause, waited = 0.5, False
    while True:
        try:
            task.apply_async(kwargs=kwargs)
            return waited
        except OperationalError:
            waited = True
            if time.monotonic() + pause > deadline:
                raise
            log.warning("the broker is away; handing %s on again in %.1f s", task.name, pause)
            time.sleep(pause)
            pause = min(pause * 2, 3.0)
