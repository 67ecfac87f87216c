from django.urls import path

from museapp.sharing import views

app_name = "sharing"

urlpatterns = [
    path("c/<str:conversation_id>/share/", views.share, name="share"),
    path("c/<str:conversation_id>/share/stop/", views.stop, name="stop"),
    path("s/<str:token>/", views.shared_page, name="shared"),
]
