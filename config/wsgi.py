"""The WSGI application: HTTP only, for the web process (gunicorn, platform/Procfile).

Websockets are served by the ASGI application (config/asgi.py) in a process
of their own; the proxy sends ``/ws/`` there (platform/nginx.conf). In front
of Django: the client's address from trusted proxies (core/proxy.py) and the
queue-time 503 (core/shedding.py).
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_wsgi_app = get_wsgi_application()

from django.conf import settings  # noqa: E402

from core.proxy import TrustedProxies  # noqa: E402
from core.shedding import QueueTimeShedding  # noqa: E402

application = TrustedProxies(
    QueueTimeShedding(django_wsgi_app, wait=settings.WEB_QUEUE_SECONDS),
    trusted=settings.FORWARDED_ALLOW_IPS,
)
