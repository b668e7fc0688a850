"""The ASGI application: HTTP through Django, websockets through Channels.

Websockets check the Origin (exactly the site's scheme, host and port:
core/origins.py), then load the session user; each consumer checks the
study's visibility and membership itself. A path with no route is closed.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.conf import settings  # noqa: E402

from config.routing import websocket_urlpatterns  # noqa: E402
from core.origins import ExactOriginValidator  # noqa: E402
from core.shedding import LoadShedding  # noqa: E402

router = ProtocolTypeRouter(
    {
        # A few requests at once, a bounded queue, then 503 (core/shedding.py).
        "http": LoadShedding(
            django_asgi_app,
            limit=settings.WEB_MAX_REQUESTS,
            queue=settings.WEB_MAX_QUEUE,
            wait=settings.WEB_QUEUE_SECONDS,
        ),
        "websocket": ExactOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)


async def application(scope, receive, send):
    """The router, plus ASGI lifespan: the embedded scheduler starts and stops with the server.

    uvicorn sends lifespan events unless started with ``--lifespan off``
    (``make run`` leaves it on); the scheduler starts only where the settings
    ask for it (EMBEDDED_SCHEDULER, on without REDIS_URL).
    """
    if scope["type"] != "lifespan":
        return await router(scope, receive, send)
    from asgiref.sync import sync_to_async

    from config import scheduler

    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            try:
                await sync_to_async(scheduler.start, thread_sensitive=False)()
            except Exception as exc:  # the site still serves; the log says why
                await send({"type": "lifespan.startup.failed", "message": str(exc)})
                return
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await sync_to_async(scheduler.stop, thread_sensitive=False)()
            await send({"type": "lifespan.shutdown.complete"})
            return


# Its routes, as on the router (tests and tools read them from here).
application.application_mapping = router.application_mapping
