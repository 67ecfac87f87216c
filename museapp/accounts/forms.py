from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm, UserCreationForm
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from museapp.accounts import reserved, throttle


def try_again_in(minutes: int) -> str:
    return f"Try again in {minutes} {'minute' if minutes == 1 else 'minutes'}."


class ThrottledLoginMixin:
    """Refuses to check passwords once the username or the client address
    has failed too often (see throttle.py)."""

    def clean(self):
        username = self.cleaned_data.get("username")
        if not username or not self.cleaned_data.get("password"):
            return super().clean()  # the missing field says so; nothing is checked
        minutes = throttle.login_wait_minutes(request=self.request, username=username)
        if minutes:
            raise ValidationError(
                f"Too many failed log-in attempts. {try_again_in(minutes)}", code="throttled"
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


class ThrottledUserCreationForm(UserCreationForm):
    """Sign-up, refused once the client address has created
    ``MUSE_SIGNUPS_PER_IP`` accounts in the window (see throttle.py)."""

    def __init__(self, data=None, *, request: HttpRequest):
        super().__init__(data)
        self.request = request
        # A refused sign-up (a taken username, say) keeps what was typed; the
        # page is never cached (museapp/accounts/views.py).
        for name in ("password1", "password2"):
            self.fields[name].widget.render_value = True

    def clean_username(self):
        # Before the "already exists" check: a reserved name is refused
        # whether or not its account exists yet.
        if reserved.username_is_reserved(self.cleaned_data.get("username") or ""):
            raise ValidationError("That username is reserved for Muse itself. Please choose another.",
                                  code="reserved")
        return super().clean_username()

    def _post_clean(self):
        super()._post_clean()  # the password checks run here, after clean()
        if self.errors:
            return  # a form with errors would create nothing: it asks for no slot
        minutes = throttle.signup_wait_minutes(request=self.request)
        if minutes:
            self.add_error(None, ValidationError(
                f"Too many accounts were created from your address. {try_again_in(minutes)}",
                code="throttled",
            ))

    def save(self, commit: bool = True):
        # Counted before the (slow) password hashing, to keep the gap short
        # between this address's check and its count.
        throttle.signup_succeeded(request=self.request)
        return super().save(commit)


class AccountDeleteForm(forms.Form):
    """"Delete my account": the person's password, so a session left open
    on a shared computer cannot do it."""

    password = forms.CharField(label="Your password", strip=False,
                               widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError("That is not your password. Nothing was deleted.")
        return password
