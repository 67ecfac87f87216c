from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from museapp.accounts import services
from museapp.accounts.forms import AccountDeleteForm, ThrottledUserCreationForm


@login_not_required
@never_cache  # a refused sign-up shows the passwords typed: no cache may keep the page
def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("chat:home")
    form = ThrottledUserCreationForm(request.POST or None, request=request)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        return redirect("chat:home")
    return TemplateResponse(request, "accounts/signup.html", {"form": form})


@require_http_methods(["GET", "POST"])
@never_cache
def account_delete(request: HttpRequest) -> HttpResponse:
    """What deleting the account removes, and the password to confirm it;
    afterwards the log-in page says it is done."""
    form = AccountDeleteForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        services.account_delete(user=request.user)
        logout(request)
        messages.success(request, "Your account and everything in it are deleted.")
        return redirect("login")
    return TemplateResponse(request, "accounts/delete.html", {"form": form}, status=400 if form.errors else 200)
