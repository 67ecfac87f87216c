"""The Celery app. Workers run with the threads pool; every task that talks
to a model hands its coroutine to one event loop per worker process
(museapp.ops.loop), so streams share warm HTTP clients and Redis pools."""

import os

from celery import Celery
from celery.signals import worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "museapp.settings")
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

app = Celery("museapp")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
app.autodiscover_tasks(["museapp.turns"])  # not a Django app (no models): named here


@app.task(name="muse.ping", ignore_result=False)
def ping() -> str:
    """A no-op the web process sends once at start-up: the first send in a
    process pays for connection set-up, so no user message has to."""
    return "pong"


@worker_ready.connect
def start_worker(**_kwargs) -> None:
    # lazy: this module is imported before Django's apps are ready
    from museapp.streams import reaper, warmup

    warmup.warm_up()
    reaper.start()
