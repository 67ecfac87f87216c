from django.contrib import admin
from django.urls import include, path

from museapp.accounts.forms import ThrottledAdminAuthenticationForm

# The admin's log-in page must not be a way around the log-in throttle.
admin.site.login_form = ThrottledAdminAuthenticationForm

urlpatterns = [
    path("accounts/", include("museapp.accounts.urls")),
    path("admin/", admin.site.urls),
    path("", include("museapp.evals.urls")),
    path("", include("museapp.exports.urls")),
    path("", include("museapp.feedback.urls")),
    path("", include("museapp.sharing.urls")),
    path("", include("museapp.web.urls")),
]

# An unreachable database is a 503 that says so (museapp/ops/outage.py).
handler500 = "museapp.ops.outage.server_error"
