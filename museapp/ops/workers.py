"""Waiting for Celery workers to be ready, for `manage.py serve`, the
benchmarks and anything else that starts workers itself."""

from __future__ import annotations

import time
from collections.abc import Callable

from celery import current_app as app  # museapp's, once Django loaded museapp/__init__.py

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
