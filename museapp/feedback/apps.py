from django.apps import AppConfig


class FeedbackConfig(AppConfig):
    name = "museapp.feedback"
    label = "feedback"
    verbose_name = "Feedback: ratings and best-draft picks"
