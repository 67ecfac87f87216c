from django.apps import AppConfig


class SearchConfig(AppConfig):
    name = "museapp.search"
    label = "search"
    verbose_name = "Search"
