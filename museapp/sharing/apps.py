from django.apps import AppConfig


class SharingConfig(AppConfig):
    name = "museapp.sharing"
    label = "sharing"
    verbose_name = "Sharing: read-only links to conversations"
