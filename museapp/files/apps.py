from django.apps import AppConfig


class FilesConfig(AppConfig):
    name = "museapp.files"
    label = "files"
    verbose_name = "Files: documents and images attached to messages"

    def ready(self) -> None:
        from museapp.files import signals  # noqa: F401 - connects the stored files' clean-up
