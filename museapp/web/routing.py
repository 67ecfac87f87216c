from django.urls import path, re_path

from museapp.web.consumers import ChatConsumer, UnknownPathConsumer

websocket_urlpatterns = [
    path("ws/chat/<str:conversation_id>/", ChatConsumer.as_asgi()),
    re_path(r"", UnknownPathConsumer.as_asgi()),  # last: anything else is a 4404, not a 500
]
