"""Warm the web process at start-up so the first person's first message does
not pay for connection set-up and template loading."""

import logging
import os
import threading

from django.db import connection
from django.template.loader import get_template

from museapp.celery import app, ping

log = logging.getLogger(__name__)


def warm_web_process() -> None:

    for name in ("chat/_message.html", "chat/_composer_error.html", "chat/page.html",
                 "agents/_agent_panel.html", "agents/_contemplation.html"):
        get_template(name)
    try:
        app.finalize(auto=True)  # task registry and routes, built on first send otherwise
        ping.delay()  # the first send in a process opens the broker connection
    except Exception:  # noqa: BLE001 - Redis may not be up yet; not fatal
        log.warning("could not warm the task queue", exc_info=True)
    try:
        connection.ensure_connection()
    except Exception:  # noqa: BLE001
        log.warning("could not warm the database connection", exc_info=True)
    finally:
        connection.close()


def warm_in_background() -> None:
    if os.environ.get("MUSE_WARM_UP", "1") != "0":
        threading.Thread(target=warm_web_process, name="muse-warm-up", daemon=True).start()
