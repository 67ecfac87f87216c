from django.contrib.auth import views as auth_views
from django.urls import path

from museapp.accounts import views
from museapp.accounts.forms import ThrottledAuthenticationForm

urlpatterns = [
    path("signup/", views.signup, name="signup"),
    path(
        "login/",
        auth_views.LoginView.as_view(
            template_name="accounts/login.html",
            authentication_form=ThrottledAuthenticationForm,
            redirect_authenticated_user=True,
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("delete/", views.account_delete, name="delete_account"),
]
