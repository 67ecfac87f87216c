from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError

from museapp.accounts import throttle


class ThrottledLoginMixin:
    """Refuses to check passwords once the username or the client address
    has failed too often (see throttle.py)."""

    def clean(self):
        username = self.cleaned_data.get("username")
        if not username or not self.cleaned_data.get("password"):
            return super().clean()  # the missing field says so; nothing is checked
        minutes = throttle.login_wait_minutes(request=self.request, username=username)
        if minutes:
            unit = "minute" if minutes == 1 else "minutes"
            raise ValidationError(
                f"Too many failed log-in attempts. Try again in {minutes} {unit}.", code="throttled"
            )
        try:
            cleaned = super().clean()
        except ValidationError as error:
            if error.code == "invalid_login":
                throttle.login_failed(request=self.request, username=username)
            raise
        throttle.login_succeeded(username=username)
        return cleaned


class ThrottledAuthenticationForm(ThrottledLoginMixin, AuthenticationForm):
    pass


class ThrottledAdminAuthenticationForm(ThrottledLoginMixin, AdminAuthenticationForm):
    """The admin's own log-in page counts against the same limits."""
