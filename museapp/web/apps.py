from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "museapp.web"
    label = "web"
    verbose_name = "The chat pages and their socket"

    def ready(self) -> None:
        from museapp.web import signals  # noqa: F401 - app registry: importing connects the handlers
