from django.apps import AppConfig


class FilesConfig(AppConfig):
    name = "museapp.files"
    label = "files"
    verbose_name = "Files: documents and images attached to messages"
