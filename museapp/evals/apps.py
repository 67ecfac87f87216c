from django.apps import AppConfig


class EvalsConfig(AppConfig):
    name = "museapp.evals"
    label = "evals"
    verbose_name = "Evaluations: Contemplating against quick answers"
