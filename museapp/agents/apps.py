from django.apps import AppConfig


class AgentsConfig(AppConfig):
    name = "museapp.agents"
    label = "agents"
    verbose_name = "Contemplation: parallel agents and the merge"
