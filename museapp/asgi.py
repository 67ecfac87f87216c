import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "museapp.settings")
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from django.core.asgi import get_asgi_application  # noqa: E402

django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from django.conf import settings  # noqa: E402

from museapp.ops.bodylimit import BodyLimit  # noqa: E402
from museapp.ops.origins import ExactOriginValidator  # noqa: E402
from museapp.web.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        # An attached file is refused by its stated size before it is read
        # (MUSE_FILE_MAX_BYTES, plus room for the form around it).
        "http": BodyLimit(django_asgi_app, max_bytes=settings.MUSE_FILE_MAX_BYTES + 64 * 1024,
                          paths=r"^/c/[^/]+/files/$"),
        # Scheme, host and port: not just the host, which every port shares.
        "websocket": ExactOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)

from museapp.web.warmup import warm_in_background  # noqa: E402

warm_in_background()
