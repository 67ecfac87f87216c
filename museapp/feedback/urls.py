from django.urls import path

from museapp.feedback import views

app_name = "feedback"

urlpatterns = [
    path("m/<str:message_id>/rate/", views.rate, name="rate"),
    path("m/<str:message_id>/rate/why/", views.explain, name="explain"),
    path("m/<str:message_id>/best-draft/", views.best_draft, name="best_draft"),
    path("m/<str:message_id>/use-draft/", views.use_draft, name="use_draft"),
    path("m/<str:message_id>/compare/", views.compare, name="compare"),
    path("insights/", views.insights, name="insights"),
    path("insights/export/", views.export, name="export"),
]
