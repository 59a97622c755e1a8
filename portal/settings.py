"""Steward settings: one file, working defaults, the environment overrides.

Every value below runs out of the box (SQLite, an embedded Celery broker on the local disk).
Production points ``DATABASE_URL`` at PostgreSQL and ``CELERY_BROKER_URL`` at Redis; see the
configuration table in README.md.
"""

from __future__ import annotations

from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from portal.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", False)
_DEV_KEY = "steward-insecure-development-key-change-me-0123456789abcdefghijklmnop"
SECRET_KEY = env_str("SECRET_KEY", _DEV_KEY if DEBUG else "")
if not SECRET_KEY:
    # Without DEBUG a real key is mandatory; `make demo` sets DEBUG=1 and so never needs one.
    raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

# Where uploaded artifacts, datasets, the embedded broker's queue and signing material live.
STORAGE_DIR = Path(env_str("STEWARD_STORAGE_DIR", str(BASE_DIR / "var"))).resolve()
STORAGE_DIR.mkdir(parents=True, exist_ok=True)  # SQLite and the embedded broker live here
(STORAGE_DIR / "static").mkdir(exist_ok=True)
MEDIA_ROOT = Path(env_str("STEWARD_MEDIA_DIR", str(STORAGE_DIR / "media"))).resolve()
MEDIA_URL = "/media/"
STATIC_ROOT = STORAGE_DIR / "static"
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "portal" / "static"]

# Largest upload accepted for an artifact or a dataset, in megabytes.
STEWARD_MAX_UPLOAD_MB = env_int("STEWARD_MAX_UPLOAD_MB", 200, minimum=1)
STEWARD_MAX_UPLOAD_BYTES = STEWARD_MAX_UPLOAD_MB * 1024 * 1024
# Largest prediction or ground-truth batch accepted in one request (rows); larger is a 413.
STEWARD_MAX_BATCH_ROWS = env_int("STEWARD_MAX_BATCH_ROWS", 50_000, minimum=1)
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "guardian",
    "registry",
    "monitoring",
    "governance",
    "governance.readiness",
    "governance.approvals",
    "portal",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "governance.audit.middleware.AuditContextMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

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
                "portal.context_processors.reviewer_inbox",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{STORAGE_DIR / 'steward.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0, minimum=0),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and a busy timeout let the web server and the Celery worker share the file.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
    }
    # The test database is a file, so that a real Celery worker in the tests can open it.
    DATABASES["default"]["TEST"] = {"NAME": str(STORAGE_DIR / "test-steward.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
GUARDIAN_RAISE_403 = False
ANONYMOUS_USER_NAME = None  # no guardian anonymous user: anonymous visitors see nothing

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# Production serves hashed, compressed static files from `collectstatic`; development and the
# test suite serve them straight from the app folders.
STATIC_MANIFEST = env_bool("STEWARD_STATIC_MANIFEST", not DEBUG)
WHITENOISE_USE_FINDERS = not STATIC_MANIFEST
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if STATIC_MANIFEST
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # JSON only. The browsable API renders forms whose choice lists come from unrestricted
    # querysets (every model's versions); people explore the API through /api/docs/ instead.
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
        "rest_framework.filters.SearchFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "portal.api.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Steward API",
    "DESCRIPTION": "Model registry, lineage, deployments, governance and monitoring.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "ArtifactKindEnum": "registry.choices.ArtifactKind",
        "DatasetKindEnum": "registry.choices.DatasetKind",
        "NodeKindEnum": "governance.lineage.models.NodeKind",
        "RequestKindEnum": "governance.approvals.choices.RequestKind",
        "RequestStateEnum": "governance.approvals.choices.RequestState",
    },
}

# Celery. The default broker is kombu's filesystem transport under STORAGE_DIR: a real worker
# and beat with no server to install. CELERY_BROKER_URL=redis://… switches with no code change.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "filesystem://")
CELERY_BROKER_DIR = STORAGE_DIR / "broker"
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = (
    {
        "data_folder_in": str(CELERY_BROKER_DIR),
        "data_folder_out": str(CELERY_BROKER_DIR),
        "processed_folder": str(CELERY_BROKER_DIR / "processed"),
        "control_folder": str(CELERY_BROKER_DIR / "control"),
        "store_processed": False,
    }
    if CELERY_BROKER_URL.startswith("filesystem://")
    else {"visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3 * 3600, minimum=60)}
)
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_WORKER_ENABLE_REMOTE_CONTROL = not CELERY_BROKER_URL.startswith("filesystem://")
CELERY_BEAT_SCHEDULE_FILENAME = str(STORAGE_DIR / "celerybeat-schedule")
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE = {
    "deployment-monitoring": {
        "task": "monitoring.tasks.schedule_deployment_monitoring",
        "schedule": 3600,
    },
    "artifact-integrity-scan": {
        "task": "monitoring.tasks.start_job",
        "schedule": env_int("STEWARD_INTEGRITY_SCAN_S", 24 * 3600, minimum=60),
        "args": ["artifact_integrity_scan"],
    },
    "lifecycle-events": {
        "task": "governance.approvals.tasks.dispatch_events",
        "schedule": env_int("STEWARD_EVENTS_EVERY_S", 15, minimum=1),
    },
    "expire-approval-requests": {
        "task": "governance.approvals.tasks.expire_requests",
        "schedule": 3600,
    },
}
# Production is protected: registry deployments to it ask this gate (governance's approvals).
STEWARD_PRODUCTION_GATE = "governance.approvals.gate.production_gate"
STEWARD_BASE_URL = env_str("STEWARD_BASE_URL", "http://127.0.0.1:8000")
STEWARD_WEBHOOK_TIMEOUT_S = env_int("STEWARD_WEBHOOK_TIMEOUT_S", 10, minimum=1)

# A running job whose worker has not reported for this long may be taken over by another.
STEWARD_JOB_LEASE_S = env_int("STEWARD_JOB_LEASE_S", 600, minimum=5)
STEWARD_JOB_MAX_ATTEMPTS = env_int("STEWARD_JOB_MAX_ATTEMPTS", 5, minimum=1)
STEWARD_MONITORING_WINDOW_HOURS = env_int("STEWARD_MONITORING_WINDOW_HOURS", 24 * 7, minimum=1)

# By default mail is written to files under STORAGE_DIR/mail, where a demo user can read it.
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.filebased.EmailBackend")
EMAIL_FILE_PATH = env_str("EMAIL_FILE_PATH", str(STORAGE_DIR / "mail"))
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "steward@localhost")

# Security. With DEBUG off these hold; TLS itself ends at the proxy (see docs/operations.md).
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # the UI's forms read nothing from it; DRF session auth needs it
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if not DEBUG:
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
    CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", True)
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}

# --- audit log ---
# Signed checkpoints of the audit hash chain (docs/audit.md): one every N entries (0: only on
# demand, `manage.py audit_checkpoint`); the Ed25519 key that signs them (created on first use,
# mode 0600; `manage.py audit_public_key` prints its public half); the folder their JSON copies
# are written to after commit (copy it off the host).
STEWARD_AUDIT_CHECKPOINT_EVERY = env_int("STEWARD_AUDIT_CHECKPOINT_EVERY", 100, minimum=0)
STEWARD_AUDIT_KEY = Path(
    env_str("STEWARD_AUDIT_KEY", str(STORAGE_DIR / "keys" / "audit-ed25519.pem"))
).resolve()
STEWARD_AUDIT_CHECKPOINT_DIR = Path(
    env_str("STEWARD_AUDIT_CHECKPOINT_DIR", str(STORAGE_DIR / "audit-checkpoints"))
).resolve()
# --- end audit log ---
