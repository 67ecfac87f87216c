from django.apps import AppConfig


class ChatConfig(AppConfig):
    name = "museapp.chat"
    label = "chat"
