from django.apps import AppConfig


class LlmConfig(AppConfig):
    name = "museapp.llm"
    label = "llm"
