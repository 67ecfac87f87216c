from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "museapp.ops"
    label = "ops"
    verbose_name = "Operations: serving, embedded Redis, the worker's event loop"

    def ready(self) -> None:
        from museapp.ops import checks  # noqa: F401 - app registry: importing registers the checks
