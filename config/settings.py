"""Settings, read from the environment (12-factor).

DATABASE_URL defaults to an embedded SQLite file under var/ for the demo; tests and production use PostgreSQL.
DJANGO_PROFILE=production turns on the hardened profile that passes `manage.py check --deploy`.
"""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent
(BASE_DIR / "var").mkdir(exist_ok=True)

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

PROFILE = env("DJANGO_PROFILE", default="development")
PRODUCTION = PROFILE == "production"
# Off unless asked for (DEBUG=1): the demo and every profile show friendly error pages, never a traceback or the
# URL list of the debug 404.
DEBUG = env.bool("DEBUG", default=False)

if PRODUCTION:
    SECRET_KEY = env("SECRET_KEY")  # no default: a production process without a key must not start
else:
    SECRET_KEY = env("SECRET_KEY", default="dev-only-insecure-key-not-for-production-use-0123456789abcdef")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "knox",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "guardian",
    "simple_history",
    "django_q",
    "warehouse",
    "inventory",
    "orders",
    "orders.allocation",
    "returns",
    "integrations",
    "integrations.outbox",
    "integrations.alerts",
    "integrations.publishing",
    "integrations.carriers",
    "integrations.shipping",
    "integrations.tracking",
    "reports",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",  # static files without DEBUG, under gunicorn too
    "warehouse.db_unavailable.DatabaseUnavailableMiddleware",  # the database down: 503, not 500
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
                "integrations.alerts.banners.incident_banners",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'var' / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
else:
    # SQLite serves the demo; WAL lets the web process and the worker read while one writes. Transactions begin
    # IMMEDIATE: a deferred one that reads, then writes, fails at once with "database is locked" when another process
    # wrote meanwhile (the busy timeout cannot help a stale snapshot); an immediate one waits its turn up front.
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].update(
        {"timeout": 20, "init_command": "PRAGMA journal_mode=WAL;", "transaction_mode": "IMMEDIATE"}
    )
# Parallel test runs (one per developer or helper) each get their own test database.
DATABASES["default"]["TEST"] = {"NAME": env("TEST_DB_NAME", default=None)}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
ANONYMOUS_USER_NAME = None  # guardian: no anonymous user row; anonymous requests see nothing

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "var" / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)  # WhiteNoise warns on every start while collectstatic has not run
# Files the hub keeps (carriers' labels): served only through views that check permissions, never as static files.
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "var" / "media")
# Hashed, compressed files once `collectstatic` ran; until then (tests, a first `runserver`) WhiteNoise serves the
# finders' files as they are, so a page never fails on a missing manifest entry.
WHITENOISE_USE_FINDERS = True
# Finance report downloads over this many rows run as background jobs (reports/finance/exports.py).
REPORT_EXPORT_INLINE_ROWS = env.int("REPORT_EXPORT_INLINE_ROWS", default=50_000)
_REPORT_EXPORTS_BACKEND = env("REPORT_EXPORTS_BACKEND", default="django.core.files.storage.FileSystemStorage")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Where the scheduled report exports go (reports.tasks.scheduled_exports): a folder by default; for a bucket, set
    # REPORT_EXPORTS_BACKEND=storages.backends.s3.S3Storage with django-storages installed and its AWS_* settings.
    "report_exports": {
        "BACKEND": _REPORT_EXPORTS_BACKEND,
        "OPTIONS": {"location": str(env.path("REPORT_EXPORTS_DIR", default=BASE_DIR / "var" / "exports"))}
        if _REPORT_EXPORTS_BACKEND.endswith("FileSystemStorage")
        else {},
    },
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if env.bool("STATIC_MANIFEST", default=PRODUCTION)
        else "whitenoise.storage.CompressedStaticFilesStorage"
    },
}

# Mail (password resets): EMAIL_URL such as smtp+tls://user:password@smtp.example.com:587; the console backend
# (mail printed to the log) until it is set.
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="webmaster@localhost")
SERVER_EMAIL = env("SERVER_EMAIL", default=DEFAULT_FROM_EMAIL)

LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"

SIMPLE_HISTORY_REVERT_DISABLED = True  # a revert would skip every guard
# A recorded reason (a forced transition's, a manager's decision) is kept whole, never clipped to 100 characters.
SIMPLE_HISTORY_HISTORY_CHANGE_REASON_USE_TEXT_FIELD = True

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "knox.auth.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    # JSON bounded in size and depth (warehouse.api.parsers); forms as DRF's defaults.
    "DEFAULT_PARSER_CLASSES": [
        "warehouse.api.parsers.BoundedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
}
REST_KNOX = {"TOKEN_TTL": None, "AUTH_HEADER_PREFIX": "Token"}
SPECTACULAR_SETTINGS = {
    "TITLE": "3PL integrations hub API",
    "VERSION": "1.0.0",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Every operation's 4xx with the error body, declared once (warehouse.api.schema).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "warehouse.api.schema.document_errors",
    ],
}

# django-q2 on the database broker: at-least-once, so every task is idempotent; timeout < retry.
Q_CLUSTER = {
    "name": "warehouse",
    "orm": "default",
    "workers": env.int("Q_WORKERS", default=2),
    "timeout": 60,
    "retry": 120,
    "max_attempts": 5,
    "catch_up": False,
    "poll": env.float("Q_POLL", default=0.05),  # an idle ORM queue is polled 20×/s: a webhook waits ≤ 50 ms
    # A failed task leaves the queue: what is retried is the delivery row, by backoff and the sweeper
    # (integrations/delivery_lifecycle.py), so a failed or lost task strands nothing.
    "ack_failures": True,
    "save_limit": 1000,
    "label": "Task queue",
}

# The demo's ports (scripts/demo.sh, seed_demo): its web server and one platform simulator per demo connection; and
# the demo connections' reconciler cadence, short so a dropped webhook is found while you watch.
DEMO_PORT = env.int("DEMO_PORT", default=8000)
DEMO_SIMULATOR_PORTS = {
    "shopify": env.int("DEMO_SHOPIFY_PORT", default=8101),
    "woocommerce": env.int("DEMO_WOOCOMMERCE_PORT", default=8102),
    "bigcommerce": env.int("DEMO_BIGCOMMERCE_PORT", default=8103),
}
DEMO_CARRIER_PORTS = {
    "dhl_parcel_de": env.int("DEMO_DHL_PORT", default=8111),
    "ups": env.int("DEMO_UPS_PORT", default=8112),
}
DEMO_RECONCILE_MINUTES = env.int("DEMO_RECONCILE_MINUTES", default=2)

# Encryption keys for connection credentials, newest first (see integrations).
CREDENTIAL_KEYS = env.list("CREDENTIAL_KEYS", default=[])
# `/readyz` is not ready when the worker's last heartbeat (a task scheduled every minute) is older than this.
WORKER_HEARTBEAT_MAX_AGE = env.int("WORKER_HEARTBEAT_MAX_AGE", default=180)
# `/metrics` (integrations/metrics/exporter.py) answers a scraper showing this bearer token, or one scraping from an
# address or network listed here; with neither set it refuses every scrape.
METRICS_TOKEN = env("METRICS_TOKEN", default="")
# Alerts (integrations/alerts): the on-call webhook is signed with this secret (never sent unsigned), and links in
# notifications start with the console's public address.
ALERTS_WEBHOOK_SECRET = env("ALERTS_WEBHOOK_SECRET", default="")
ALERTS_BASE_URL = env("ALERTS_BASE_URL", default="")
METRICS_ALLOWED_IPS = env.list("METRICS_ALLOWED_IPS", default=[])

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]  # load balancers probe over plain HTTP
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    X_FRAME_OPTIONS = "DENY"

# The API's shared machinery (warehouse/api/): domain errors mapped once, capped pagination with a bounded count.
REST_FRAMEWORK["EXCEPTION_HANDLER"] = "warehouse.api.errors.exception_handler"
REST_FRAMEWORK["DEFAULT_PAGINATION_CLASS"] = "warehouse.api.pagination.CappedPagination"

if PRODUCTION:
    # `check --deploy` is about deployment safety; drf-spectacular adds its API-docs generation warnings to it (knox's
    # logout views have no serializer). They stay visible to `check --deploy` in the development profile.
    SPECTACULAR_SETTINGS["ENABLE_DJANGO_DEPLOY_CHECK"] = False  # type: ignore[assignment]
