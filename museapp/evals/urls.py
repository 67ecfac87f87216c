from django.urls import path

from museapp.evals import views

app_name = "evals"

urlpatterns = [
    path("insights/evals/", views.evaluations, name="evaluations"),
]
