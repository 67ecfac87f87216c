from django.apps import AppConfig
from django.db.backends.signals import connection_created


class FeedbackConfig(AppConfig):
    name = "museapp.feedback"
    label = "feedback"
    verbose_name = "Feedback: ratings and best-draft picks"

    def ready(self) -> None:
        from museapp.feedback.insights import register_sqlite_functions  # app registry: it imports models

        connection_created.connect(register_sqlite_functions, dispatch_uid="muse_percentile")
