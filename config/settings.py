"""Dugnad settings: one module, read from the environment.

With no variables set, Dugnad runs embedded: DEBUG on, SQLite (WAL), the
in-memory channel layer, eager Celery, local-memory cache and console e-mail.
DATABASE_URL switches to PostgreSQL; REDIS_URL switches the channel layer,
the Celery broker and the cache together. With DEBUG off, start-up refuses to
run without SECRET_KEY, ALLOWED_HOSTS, DATABASE_URL and REDIS_URL.
"""

from pathlib import Path

from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from config.env import (
    check_redis_url,
    env_bool,
    env_int,
    env_list,
    env_str,
    parse_database_url,
)

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", True)
SECRET_KEY = env_str("SECRET_KEY")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS")
DATABASE_URL = env_str("DATABASE_URL")
REDIS_URL = env_str("REDIS_URL")

if not DEBUG:
    missing = [
        name
        for name, value in (
            ("SECRET_KEY", SECRET_KEY),
            ("ALLOWED_HOSTS", ALLOWED_HOSTS),
            ("DATABASE_URL", DATABASE_URL),
            ("REDIS_URL", REDIS_URL),
            # Links in e-mails and the websocket origin check start from it.
            ("SITE_URL", env_str("SITE_URL")),
        )
        if not value
    ]
    if missing:
        raise ImproperlyConfigured(
            "Dugnad will not start with DEBUG off until these are set: "
            + ", ".join(missing)
            + ". See README.md, 'Production'."
        )
else:
    SECRET_KEY = SECRET_KEY or "dugnad-insecure-development-key-do-not-use-in-production"
    ALLOWED_HOSTS = ALLOWED_HOSTS or ["127.0.0.1", "localhost", "[::1]", "testserver"]

CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
# Websockets are opened only from SITE_URL or CSRF_TRUSTED_ORIGINS, exactly (core/origins.py);
# in the embedded default also from the page's own origin (scheme, Host in ALLOWED_HOSTS).
WEBSOCKET_SAME_ORIGIN = env_bool("WEBSOCKET_SAME_ORIGIN", DEBUG)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.sites",
    "channels",
    "django_htmx",
    "csp",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    "accounts",
    "studies",
    "contributions",
    "moderation",
    "polls",
    "reports",
    "search",
    "rest_framework",
    "drf_spectacular",
    "api",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Compresses what the middleware below it returns: pages, fragments, JSON
    # (core/compression.py; streamed files pass untouched).
    "core.compression.PageGZipMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "accounts.middleware.SingleSignOnFormActionMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "accounts.middleware.MFARequiredMiddleware",
    "accounts.middleware.PersonLanguageMiddleware",
]

ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"
WSGI_APPLICATION = "config.wsgi.application"
SITE_ID = 1

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.platform",
            ],
            # Dates, times and numbers in the active language (accounts.formatting).
            "builtins": ["accounts.templatetags.dugnad_format"],
        },
    },
]

# --- Database -------------------------------------------------------------
DB_POOL_MAX_SIZE = env_int("DB_POOL_MAX_SIZE", 20)
DB_POOL_TIMEOUT = env_int("DB_POOL_TIMEOUT", 5)
# HTTP requests running at once per ASGI process, how many more may wait their
# turn and for how long, before new ones get 503 at once (core/shedding.py).
# Few at once keep the worker's event loop free to send live events.
WEB_MAX_REQUESTS = env_int("WEB_MAX_REQUESTS", 4)
WEB_MAX_QUEUE = env_int("WEB_MAX_QUEUE", 200)
WEB_QUEUE_SECONDS = env_int("WEB_QUEUE_SECONDS", 5)
# Proxies whose X-Forwarded-For gives the client's address (core/proxy.py for
# the WSGI web process; uvicorn reads the same variable for the socket process).
FORWARDED_ALLOW_IPS = env_list("FORWARDED_ALLOW_IPS") or ["127.0.0.1"]
if DATABASE_URL:
    DATABASES = {
        "default": parse_database_url(
            DATABASE_URL, pool_max_size=DB_POOL_MAX_SIZE, pool_timeout=DB_POOL_TIMEOUT
        )
    }
else:
    DATABASES = {
        "default": {
            # Django's SQLite backend, its flush marked for the log's guard.
            "ENGINE": "core.backends.sqlite3",
            "NAME": Path(env_str("SQLITE_PATH") or BASE_DIR / "db.sqlite3"),
            "OPTIONS": {
                # WAL lets readers go on while one writer writes; IMMEDIATE takes
                # the write lock up front so concurrent writers wait (busy timeout)
                # instead of failing with "database is locked".
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Channels, cache, Celery ----------------------------------------------
CHANNEL_MAX_CONNECTIONS = env_int("CHANNEL_MAX_CONNECTIONS", 2000)
if REDIS_URL:
    check_redis_url(REDIS_URL)
    CHANNEL_LAYERS = {
        "default": {
            # RedisPubSubChannelLayer delivered every group message under load
            # where RedisChannelLayer dropped 13-23 % (docs/decisions.md).
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {
                # redis-py caps an asyncio pool at 100 connections by default.
                "hosts": [{"address": REDIS_URL, "max_connections": CHANNEL_MAX_CONNECTIONS}],
                # Redis pub/sub ignores the database number: deployments (or
                # test runs) sharing one Redis keep apart by prefix.
                "prefix": env_str("CHANNEL_PREFIX", "asgi"),
            },
        }
    }
    CACHES = {
        "default": {
            # Django's RedisCache with its pools shared process-wide (core/cache.py).
            "BACKEND": "core.cache.SharedPoolRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "dugnad"),
        }
    }
    CELERY_BROKER_URL = REDIS_URL
    CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CELERY_BROKER_URL = "memory://"
    CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
# Nothing reads task results (exports keep their own progress in the database),
# so none are stored: no celery-task-meta-* key per e-mail, and no result
# backend at all. With one, queueing a task from a request built a Redis result
# backend for the request's thread first (Celery keeps one per thread, and
# ASGI runs each request's view in a thread of its own): 1.4 ms of CPU per
# posted comment.
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
# Without one Celery still builds a stand-in (DisabledBackend) per thread, and
# ASGI runs each request's view in a thread of its own; the stand-in holds
# nothing, so one serves the whole process (about 0.5 ms of a comment posted
# through ASGI; docs/benchmarks.md, "Posting").
CELERY_RESULT_BACKEND_THREAD_SAFE = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = "Europe/Oslo"
# Study export files are removed this many days after they were made (the record
# of who asked for what stays, marked expired); personal archives after a week.
EXPORT_RETENTION_DAYS = env_int("EXPORT_RETENTION_DAYS", 30)
# A person's first instant notification is e-mailed at once; any that follow
# within this many seconds go out together at its end (0: one e-mail each).
NOTIFICATION_EMAIL_WINDOW = env_int("NOTIFICATION_EMAIL_WINDOW", 60)

# Without a broker (no REDIS_URL) nothing runs CELERY_BEAT_SCHEDULE but the
# scheduler the web process starts on ASGI lifespan start-up (config/scheduler.py).
EMBEDDED_SCHEDULER = env_bool("EMBEDDED_SCHEDULER", not REDIS_URL)

CELERY_BEAT_SCHEDULE: dict = {
    # Hourly and idempotent: each person's daily or weekly digest is claimed and sent once.
    "accounts-digests": {"task": "accounts.tasks.digests_send_due", "schedule": 3600.0},
    # Every 5 minutes: instant e-mails whose task was lost go out after all.
    "accounts-notification-emails-overdue": {
        "task": "accounts.tasks.notification_emails_overdue",
        "schedule": 300.0,
    },
    # Hourly: export files and personal archives past their time are removed.
    "reports-exports-expire": {"task": "reports.tasks.exports_expire", "schedule": 3600.0},
    "accounts-data-exports-remove": {
        "task": "accounts.tasks.data_exports_remove_expired",
        "schedule": 3600.0,
    },
    # Every 15 minutes: facilitators get one e-mail about new flags and waiting items.
    "moderation-digests": {
        "task": "moderation.tasks.send_moderation_digests",
        "schedule": 900.0,
    },
}

# --- Auth and allauth -----------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_LOGIN_BY_CODE_ENABLED = True
ACCOUNT_CHANGE_EMAIL = True
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Dugnad] "
ACCOUNT_ADAPTER = "accounts.adapter.AccountAdapter"
# Changing to an address another account uses is refused with a clear error.
ACCOUNT_FORMS = {"add_email": "accounts.forms.AddEmailForm"}
# Failed sign-ins (accounts.adapter, docs/security.md): each account from each
# address gets a few tries (allauth's "key" is the account and the address
# together), an address many more (an office behind one address has many
# people), and an account from anywhere a burst that ends in a minute or two,
# so nobody can lock a known account for long. TOTP codes are limited per
# account by allauth's own "mfa-auth-user" key under the same action.
LOGIN_FAILED_PER_ACCOUNT_AND_ADDRESS = env_str("LOGIN_FAILED_PER_ACCOUNT_AND_ADDRESS", "5/5m")
LOGIN_FAILED_PER_ADDRESS = env_str("LOGIN_FAILED_PER_ADDRESS", "60/15m")
LOGIN_FAILED_PER_ACCOUNT = env_str("LOGIN_FAILED_PER_ACCOUNT", "20/2m")

# Sign-up asks for the name to show beside what a person posts (required).
ACCOUNT_SIGNUP_FORM_CLASS = "accounts.signup_forms.SignupForm"
ACCOUNT_RATE_LIMITS = {
    "login_failed": f"{LOGIN_FAILED_PER_ADDRESS}/ip,{LOGIN_FAILED_PER_ACCOUNT_AND_ADDRESS}/key",
    "login_failed_account": f"{LOGIN_FAILED_PER_ACCOUNT}/key",
    "login": "30/m/ip",
    "signup": "20/m/ip",
}
# Downloading a named export needs a sign-in or reauthentication this recent
# (allauth's reauthentication page asks otherwise); 0 turns it off.
NAMED_EXPORT_REAUTHENTICATION_MINUTES = env_int("NAMED_EXPORT_REAUTHENTICATION_MINUTES", 5)
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Dugnad"
SOCIALACCOUNT_ADAPTER = "accounts.adapter.SocialAccountAdapter"
# An identity from a provider is connected to an existing account with the same
# e-mail address only after the person proves they own that account (they sign
# in to it), unless the provider is trusted (SSO_TRUSTED_PROVIDERS); even then the
# connection is saved only after the account's second factor (accounts/adapter.py).
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False
SOCIALACCOUNT_EMAIL_AUTHENTICATION_AUTO_CONNECT = False
# Seconds to wait for the provider's discovery, token, userinfo and key endpoints.
SOCIALACCOUNT_REQUESTS_TIMEOUT = env_int("OIDC_TIMEOUT", 5)
OIDC_DISCOVERY_CACHE_SECONDS = env_int("OIDC_DISCOVERY_CACHE_SECONDS", 3600)
# Provider ids whose verified e-mail addresses are trusted to sign in to the
# local account with that address (connected, and its owner told, by e-mail).
SSO_TRUSTED_PROVIDERS: list[str] = []
SOCIALACCOUNT_PROVIDERS: dict = {
    # Nonce, required acr, cached discovery, no pid stored (accounts/oidc.py).
    "openid_connect": {"provider_class": "accounts.oidc.DugnadOpenIDConnectProvider"}
}
if env_str("OIDC_CLIENT_ID"):
    _oidc_settings = {"server_url": env_str("OIDC_SERVER_URL"), "oauth_pkce_enabled": True}
    if env_str("OIDC_ACR_VALUES"):
        # e.g. "idporten-loa-substantial idporten-loa-high": the ID token's acr must be one.
        _oidc_settings["acr_values"] = env_str("OIDC_ACR_VALUES").split()
    SOCIALACCOUNT_PROVIDERS["openid_connect"]["APPS"] = [
        {
            "provider_id": env_str("OIDC_PROVIDER_ID", "oidc"),
            "name": env_str("OIDC_PROVIDER_NAME", "ID-porten"),
            "client_id": env_str("OIDC_CLIENT_ID"),
            "secret": env_str("OIDC_CLIENT_SECRET"),
            # PKCE as ID-porten requires; harmless for other providers.
            "settings": _oidc_settings,
        }
    ]
    if env_bool("OIDC_TRUSTED", False):
        SSO_TRUSTED_PROVIDERS.append(env_str("OIDC_PROVIDER_ID", "oidc"))

# --- Internationalisation -------------------------------------------------
LANGUAGE_CODE = "nb"
LANGUAGES = [("nb", _("Norwegian bokmål")), ("en", _("English"))]
# Dugnad's own catalogue, then its bokmål for allauth's strings (before allauth's own).
LOCALE_PATHS = [BASE_DIR / "locale", BASE_DIR / "locale" / "allauth"]
# Språkrådet's bokmål forms and a day-month-year English (config/formats/).
FORMAT_MODULE_PATH = ["config.formats"]
TIME_ZONE = "Europe/Oslo"
USE_I18N = True
USE_TZ = True

# --- Static and uploaded files --------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
# With DEBUG off, collectstatic writes hashed copies (css/dugnad.3f2a….css) that
# WhiteNoise serves with "max-age=315360000, public, immutable", and .gz and .br
# beside them; names without a hash get 60 seconds. With DEBUG on (make run, the
# tests) files come straight from static/ and no collectstatic is needed.
WHITENOISE_MIMETYPES = {".webmanifest": "application/manifest+json"}
# Uploaded files are private: no MEDIA_URL is served; views check access first.
MEDIA_ROOT = Path(env_str("MEDIA_ROOT") or BASE_DIR / "media")
DATA_UPLOAD_MAX_MEMORY_SIZE = 12 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440

# --- E-mail ---------------------------------------------------------------
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Dugnad <noreply@dugnad.localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
if env_str("EMAIL_HOST"):
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = env_str("EMAIL_HOST")
    EMAIL_PORT = env_int("EMAIL_PORT", 587)
    EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
    EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
elif env_str("EMAIL_FILE_PATH"):
    # Each message as a file in this directory: the browser tests read links from it.
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = env_str("EMAIL_FILE_PATH")
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"

# --- Security -------------------------------------------------------------
# Sessions are read from the cache (Redis in production) and written through
# to the database: no session query on a request, nothing lost with the cache.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the page, not the cookie
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    }
}

# --- Open data API (api/, docs/api.md) ---------------------------------------
REST_FRAMEWORK = {
    # Personal tokens only: the public endpoints answer everyone the same way.
    "DEFAULT_AUTHENTICATION_CLASSES": ["api.authentication.ApiTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_CLASSES": ["api.throttling.ApiClientThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "api_anon": env_str("API_RATE_ANON", "120/min"),
        "api_token": env_str("API_RATE_TOKEN", "600/min"),
        "api_bulk": env_str("API_RATE_BULK", "20/hour"),
    },
    "EXCEPTION_HANDLER": "api.exceptions.api_exception_handler",
    "URL_FORMAT_OVERRIDE": None,
    # Clients are told apart by REMOTE_ADDR unless this many proxies sit in front.
    "NUM_PROXIES": env_int("API_NUM_PROXIES", 0),
    "UNAUTHENTICATED_TOKEN": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Dugnad open data API",
    "DESCRIPTION": "Read-only access to public studies, their published items and statistics.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
}

# --- Platform limits ------------------------------------------------------
# Every staff power (moderation, full statistics, study set-up, roles and
# invitations, exports, API tokens, the registry, platform statistics, the
# Django admin) needs a second factor used in this session (accounts.second_factor).
DUGNAD_REQUIRE_MFA = env_bool("DUGNAD_REQUIRE_MFA", True)
# Flags count toward a study's automatic hide only from members who joined
# before the item was posted and whose accounts are at least this old.
FLAG_MIN_ACCOUNT_AGE_HOURS = env_int("FLAG_MIN_ACCOUNT_AGE_HOURS", 72)
POSTING_RATE_LIMIT = env_str("POSTING_RATE_LIMIT", "20/m")
SEARCH_RATE_LIMIT = env_str("SEARCH_RATE_LIMIT", "30/m")
EVENT_REPLAY_LIMIT = env_int("EVENT_REPLAY_LIMIT", 500)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}
