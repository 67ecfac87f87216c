from django.apps import AppConfig


class AgentsConfig(AppConfig):
    name = "museapp.agents"
    label = "agents"
    verbose_name = "Contemplation: parallel agents and the merge"

    def ready(self) -> None:
        from museapp.agents import reaping  # app registry: it imports models, ready only now

        reaping.register()
