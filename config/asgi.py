"""The ASGI application: HTTP through Django, websockets through Channels.

Websockets check the Origin (exactly the site's scheme, host and port:
config/origins.py), then load the session user; each consumer checks the
study's visibility and membership itself. A path with no route is closed.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.conf import settings  # noqa: E402

from config.origins import ExactOriginValidator  # noqa: E402
from config.routing import websocket_urlpatterns  # noqa: E402
from config.shedding import LoadShedding  # noqa: E402

application = ProtocolTypeRouter(
    {
        # A few requests at once, a bounded queue, then 503 (config/shedding.py).
        "http": LoadShedding(
            django_asgi_app,
            limit=settings.WEB_MAX_REQUESTS,
            queue=settings.WEB_MAX_QUEUE,
            wait=settings.WEB_QUEUE_SECONDS,
        ),
        "websocket": ExactOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)
