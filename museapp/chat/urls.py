from django.urls import path

from museapp.chat import views

app_name = "chat"

urlpatterns = [
    path("", views.home, name="home"),
    path("c/new/", views.new_conversation, name="new"),
    path("c/<str:conversation_id>/", views.conversation_detail, name="detail"),
    path("c/<str:conversation_id>/rename/", views.conversation_rename, name="rename"),
    path("c/<str:conversation_id>/delete/", views.conversation_delete, name="delete"),
]
