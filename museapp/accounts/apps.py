from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "museapp.accounts"
    label = "accounts"
