from django.apps import AppConfig


class ExportsConfig(AppConfig):
    name = "museapp.exports"
    label = "exports"
