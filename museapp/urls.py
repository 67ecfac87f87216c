from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("accounts/", include("museapp.accounts.urls")),
    path("admin/", admin.site.urls),
    path("", include("museapp.feedback.urls")),
    path("", include("museapp.chat.urls")),
]
