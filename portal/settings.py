"""Steward settings: one file, working defaults, the environment overrides.

Every value below runs out of the box (SQLite, an embedded Celery broker on the local disk).
Production points ``DATABASE_URL`` at PostgreSQL and ``CELERY_BROKER_URL`` at Redis; see the
configuration table in README.md.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from kombu import Queue as KombuQueue

from monitoring.jobs import kinds as job_kinds
from portal.demo_settings import demo_secret_key, secrets_key
from portal.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

# Native thread pools (OpenMP in scikit-learn's gradient boosting, OpenBLAS): one thread per
# process unless the environment says otherwise. Web and worker processes already share the
# cores, and OpenMP threads that wait for each other on busy cores run many times slower than
# one thread (a 150-tree fit: 14 s against 0.14 s on this 2-core machine under load). Set here,
# before any Steward process loads scikit-learn; docs/operations.md, "Workers and queues".
for _pool in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_pool, "1")

DEBUG = env_bool("DEBUG", False)
# `make demo`: DEBUG off (no tracebacks on the wire) over plain HTTP on loopback, with a
# secret key made on first start and kept under the storage folder (portal/demo_settings.py).
STEWARD_DEMO = env_bool("STEWARD_DEMO", False)

# Where uploaded artifacts, datasets, the embedded broker's queue and signing material live.
STORAGE_DIR = Path(env_str("STEWARD_STORAGE_DIR", str(BASE_DIR / "var"))).resolve()
STORAGE_DIR.mkdir(parents=True, exist_ok=True)  # SQLite and the embedded broker live here

_DEV_KEY = "steward-insecure-development-key-change-me-0123456789abcdefghijklmnop"
SECRET_KEY = env_str(
    "SECRET_KEY", _DEV_KEY if DEBUG else demo_secret_key(STORAGE_DIR) if STEWARD_DEMO else ""
)
if not SECRET_KEY:
    # Without DEBUG a real key is mandatory; the demo (STEWARD_DEMO=1) makes its own.
    raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
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
    "axes",
    "csp",
    "registry",
    "monitoring",
    "governance",
    "governance.readiness",
    "governance.approvals",
    "governance.reports",
    "governance.mlflow",
    "governance.retraining",
    "portal",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "portal.security.caching.NoStoreAPIMiddleware",
    "csp.middleware.CSPMiddleware",
    "portal.security.limits.RequestSizeLimitMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "governance.audit.middleware.AuditContextMiddleware",
    # Last: turns a lockout found during authenticate() into the lockout page.
    "axes.middleware.AxesMiddleware",
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
                "portal.context_processors.open_alerts",
                "portal.context_processors.unread_notifications",
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
    # First: refuses a locked-out user name and address before any password is checked.
    "portal.security.lockout.LockoutBackend",
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
STATIC_MANIFEST = env_bool("STEWARD_STATIC_MANIFEST", not (DEBUG or STEWARD_DEMO))
WHITENOISE_USE_FINDERS = not STATIC_MANIFEST
STORAGES = {
    "default": {"BACKEND": "registry.storage.AtomicFileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if STATIC_MANIFEST
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "portal.security.tokens.ExpiringTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # JSON only. The browsable API renders forms whose choice lists come from unrestricted
    # querysets (every model's versions); people explore the API through /api/docs/ instead.
    "DEFAULT_RENDERER_CLASSES": ["portal.api.JSONRenderer"],
    # JSON through orjson with depth, object-size and 64-bit integer limits (registry/safe_json).
    "DEFAULT_PARSER_CLASSES": [
        "registry.api.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
        "rest_framework.filters.SearchFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "portal.api_schema.StewardAutoSchema",
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
        "JobStateEnum": "monitoring.choices.JobState",
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
    # Redis: a message not acknowledged within the visibility timeout (its worker died) goes
    # back to the queue; workers look for such messages every restore interval. Keep the
    # timeout longer than STEWARD_JOB_LEASE_S (docs/monitoring.md, "Jobs and dead workers").
    else {
        "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3 * 3600, minimum=2),
        "unacked_restore_interval": env_int("CELERY_RESTORE_INTERVAL_S", 60, minimum=1),
        "unacked_restore_throttle": 1,
        # A worker killed while restoring holds the restore lock until it expires.
        "unacked_mutex_expire": env_int("CELERY_UNACKED_MUTEX_EXPIRE_S", 300, minimum=1),
    }
)
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_WORKER_ENABLE_REMOTE_CONTROL = not CELERY_BROKER_URL.startswith("filesystem://")
# One queue per kind of work (monitoring/jobs/kinds.py). A worker started without -Q reads
# them all (the demo, the tests); `-Q reports` makes a worker that only renders reports, so
# a slow report never delays monitoring (docs/operations.md, "Workers and queues").
CELERY_TASK_QUEUES = [KombuQueue(name) for name in job_kinds.QUEUES]
CELERY_TASK_DEFAULT_QUEUE = job_kinds.MONITORING
CELERY_TASK_ROUTES = {
    "governance.approvals.tasks.dispatch_events": {"queue": job_kinds.WEBHOOKS},
    "governance.approvals.tasks.deliver_webhook": {"queue": job_kinds.WEBHOOKS},
    "monitoring.jobs.beat.retry_alert_deliveries": {"queue": job_kinds.WEBHOOKS},
    "governance.reports.tasks.run_due_schedules": {"queue": job_kinds.REPORTS},
    "governance.mlflow.tasks.schedule_syncs": {"queue": job_kinds.INTEGRATIONS},
}
CELERY_BEAT_SCHEDULE_FILENAME = str(STORAGE_DIR / "celerybeat-schedule")
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE = {
    "deployment-monitoring": {
        "task": "monitoring.jobs.beat.schedule_deployment_monitoring",
        "schedule": 3600,
    },
    "artifact-integrity-scan": {
        "task": "monitoring.jobs.beat.start_job",
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
    "retry-alert-deliveries": {
        "task": "monitoring.jobs.beat.retry_alert_deliveries",
        "schedule": 60,
    },
    "redispatch-queued-jobs": {
        "task": "monitoring.jobs.beat.redispatch_queued_jobs",
        "schedule": 60,
    },
    # Raw-event partitions ahead and retention (monitoring/retention, docs/operations.md).
    "raw-partitions": {
        "task": "monitoring.jobs.beat.start_job",
        "schedule": 24 * 3600,
        "args": ["raw_partitions"],
    },
    "raw-retention": {
        "task": "monitoring.jobs.beat.start_job",
        "schedule": 24 * 3600,
        "args": ["raw_retention"],
    },
}
# Days raw prediction events and ground truth are kept; older whole months go once their
# hours' summaries are verified (summaries and daily performance stay forever).
STEWARD_RAW_RETENTION_DAYS = env_int("STEWARD_RAW_RETENTION_DAYS", 90, minimum=1)
# Production is protected: registry deployments to it ask this gate (governance's approvals).
STEWARD_PRODUCTION_GATE = "governance.approvals.gate.production_gate"
# Governance hears of changes to what a pending approval binds, inside the changing
# transaction (registry/hooks.py): a version's release manifest, a model's risk tier.
STEWARD_REGISTRY_HOOKS = {
    "manifest_changed": ["governance.approvals.hooks.manifest_changed"],
    "risk_tier_changed": ["governance.approvals.hooks.risk_tier_changed"],
    # Archiving a version withdraws its pending approval requests.
    "version_archived": ["governance.approvals.hooks.version_archived"],
    # A production deployment of a version mirrored from MLflow moves its protected alias.
    "deployment_created": ["governance.mlflow.promotion.deployment_created"],
}
STEWARD_BASE_URL = env_str("STEWARD_BASE_URL", "http://127.0.0.1:8000")
STEWARD_WEBHOOK_TIMEOUT_S = env_int("STEWARD_WEBHOOK_TIMEOUT_S", 10, minimum=1)
# Webhooks (lifecycle and alert) go to public https addresses only (governance/outbound,
# docs/security.md). http is for development; the allow-list names internal receivers
# (addresses, networks such as 10.1.0.0/16, or host names) that may be reached all the same.
STEWARD_WEBHOOK_ALLOW_HTTP = env_bool("STEWARD_WEBHOOK_ALLOW_HTTP", False)
STEWARD_WEBHOOK_ALLOWLIST = env_list("STEWARD_WEBHOOK_ALLOWLIST", [])
# A failed alert webhook is tried again after 1, 2, 4 ... minutes, up to this many attempts.
STEWARD_ALERT_DELIVERY_ATTEMPTS = env_int("STEWARD_ALERT_DELIVERY_ATTEMPTS", 6, minimum=1)
STEWARD_ALERT_RETRY_BASE_S = env_int("STEWARD_ALERT_RETRY_BASE_S", 60, minimum=1)

# A running job whose worker has not reported for this long may be taken over by another.
STEWARD_JOB_LEASE_S = env_int("STEWARD_JOB_LEASE_S", 600, minimum=5)
STEWARD_JOB_MAX_ATTEMPTS = env_int("STEWARD_JOB_MAX_ATTEMPTS", 5, minimum=1)
# A run still queued this long after it was recorded (its message was lost with the broker)
# is sent again by beat's redispatch_queued_jobs.
STEWARD_JOB_REDISPATCH_S = env_int("STEWARD_JOB_REDISPATCH_S", 300, minimum=1)
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
    _HTTPS = not STEWARD_DEMO  # the demo is plain HTTP on 127.0.0.1
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", _HTTPS)
    CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", _HTTPS)
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", _HTTPS)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000 if _HTTPS else 0, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Any body larger than the upload limit plus room for a multipart envelope answers 413 before
# a view reads it (portal/security/limits.py).
STEWARD_MAX_REQUEST_BYTES = STEWARD_MAX_UPLOAD_BYTES + 1024 * 1024
# Content-Security-Policy (django-csp): scripts and styles from this origin only; data goes
# into pages through json_script. The API docs pages relax it for themselves (portal/urls.py).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
# Sign-in lockout (django-axes): this many failures for one user name from one address lock
# that pair out for STEWARD_LOCKOUT_COOLOFF_MINUTES (0: until `manage.py axes_reset`).
AXES_FAILURE_LIMIT = env_int("STEWARD_LOCKOUT_FAILURES", 5, minimum=1)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
_COOLOFF_MINUTES = env_int("STEWARD_LOCKOUT_COOLOFF_MINUTES", 30, minimum=0)
AXES_COOLOFF_TIME = _COOLOFF_MINUTES / 60 if _COOLOFF_MINUTES else None  # float: hours
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "portal.security.lockout.lockout_response"
AXES_VERBOSE = False
# API tokens expire this many hours after they were issued; `DELETE /api/v1/auth/token/` and
# `manage.py revoke_tokens USER` revoke them sooner.
STEWARD_TOKEN_TTL_HOURS = env_int("STEWARD_TOKEN_TTL_HOURS", 30 * 24, minimum=1)
# Live tokens one user may hold (each client its own); one more revokes the oldest.
STEWARD_MAX_TOKENS_PER_USER = env_int("STEWARD_MAX_TOKENS_PER_USER", 20, minimum=1)

LOGGING: dict[str, Any] = {
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

# --- signed reports ---
# The organisation's document-signing identity (PKCS#12: key, certificate and chain) and the
# root certificate(s) a report's signature must chain to (docs/reports.md). The demo's and the
# tests' are made by `manage.py create_signing_identity`. With a TSA URL every signature
# carries an RFC 3161 timestamp.
STEWARD_SIGNING_PKCS12 = Path(
    env_str("STEWARD_SIGNING_PKCS12", str(STORAGE_DIR / "keys" / "report-signer.p12"))
).resolve()
STEWARD_SIGNING_PASSPHRASE = env_str("STEWARD_SIGNING_PASSPHRASE", "")
_DEMO_REPORT_ROOT = str(STORAGE_DIR / "keys" / "report-root.pem")
STEWARD_SIGNING_TRUST_ROOTS = [
    Path(p).resolve() for p in env_list("STEWARD_SIGNING_TRUST_ROOTS", [_DEMO_REPORT_ROOT])
]
STEWARD_TSA_URL = env_str("STEWARD_TSA_URL", "")
STEWARD_REPORT_FONT_DIR = Path(
    env_str("STEWARD_REPORT_FONT_DIR", "/usr/share/fonts/truetype/dejavu")
).resolve()
# Monthly deployment reports (governance.reports.scheduling): beat looks for due ones daily.
CELERY_BEAT_SCHEDULE["monthly-reports"] = {
    "task": "governance.reports.tasks.run_due_schedules",
    "schedule": env_int("STEWARD_REPORT_SCHEDULE_EVERY_S", 24 * 3600, minimum=60),
}
# The MLflow bridge (governance/mlflow, docs/mlflow.md): beat syncs every active connection.
STEWARD_MLFLOW_SYNC_S = env_int("STEWARD_MLFLOW_SYNC_S", 900, minimum=10)
CELERY_BEAT_SCHEDULE["mlflow-sync"] = {
    "task": "governance.mlflow.tasks.schedule_syncs",
    "schedule": STEWARD_MLFLOW_SYNC_S,
}
# Each MLflow call: its timeout and how often MLflow's client retries it (a failed sync is
# retried as a job, so the client's own retries are kept few).
STEWARD_MLFLOW_TIMEOUT_S = env_int("STEWARD_MLFLOW_TIMEOUT_S", 30, minimum=1)
STEWARD_MLFLOW_MAX_RETRIES = env_int("STEWARD_MLFLOW_MAX_RETRIES", 2, minimum=0)
# Fernet keys that encrypt stored credentials at rest (MLflow connections), comma-separated,
# newest first: the first encrypts, all decrypt (rotation: put the new key first, run
# `manage.py rotate_secrets`, then drop the old one). Unset: a key made once under
# STORAGE_DIR/keys/secrets-fernet-key (mode 0600), as the demo's secret key is.
STEWARD_SECRETS_KEY = env_str("STEWARD_SECRETS_KEY", "") or secrets_key(STORAGE_DIR)
# WeasyPrint logs each layout step and its font subsetting every table at INFO.
LOGGING.setdefault("loggers", {}).update(
    {"fontTools": {"level": "WARNING"}, "weasyprint": {"level": "WARNING"}}
)
# --- end signed reports ---
# --- periodic revalidation (docs/governance.md) ---
# Days before a model's next validation falls due that the sweep opens its revalidation request.
STEWARD_REVALIDATION_NOTICE_DAYS = env_int("STEWARD_REVALIDATION_NOTICE_DAYS", 30, minimum=0)
CELERY_BEAT_SCHEDULE["revalidation-sweep"] = {
    "task": "monitoring.jobs.beat.start_job",
    "schedule": env_int("STEWARD_REVALIDATION_SWEEP_S", 24 * 3600, minimum=60),
    "args": ["revalidation_sweep"],
}
# --- end periodic revalidation ---
# Governed retraining (governance/retraining, docs/retraining.md): beat queues the check that
# starts due deferred runs, records firing triggers and follows approvals.
CELERY_BEAT_SCHEDULE["retraining-check"] = {
    "task": "monitoring.jobs.beat.start_job",
    "schedule": env_int("STEWARD_RETRAINING_CHECK_S", 3600, minimum=60),
    "args": ["retraining_check"],
}
