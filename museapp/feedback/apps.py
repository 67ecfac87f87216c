from django.apps import AppConfig


class FeedbackConfig(AppConfig):
    name = "museapp.feedback"
    label = "feedback"
    verbose_name = "Feedback: ratings and best-draft picks"

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from museapp.feedback.insights import register_sqlite_functions

        connection_created.connect(register_sqlite_functions, dispatch_uid="muse_percentile")
