from django.urls import path

from museapp.exports import views

app_name = "exports"

urlpatterns = [
    path("c/<str:conversation_id>/export.md", views.conversation_export, {"fmt": "markdown"}, name="markdown"),
    path("c/<str:conversation_id>/export.json", views.conversation_export, {"fmt": "json"}, name="json"),
    path("settings/my-data.json", views.my_data, name="my_data"),
]
