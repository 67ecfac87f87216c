"""System checks (``manage.py check``, and ``manage.py serve`` at start):
a malformed setting is reported before anyone is refused because of it."""

from django.conf import settings
from django.core.checks import Error, register
from django.core.exceptions import ImproperlyConfigured

from museapp.ops.ratelimit import parse_rate

RATE_SETTINGS = ("MUSE_RATE_MESSAGES", "MUSE_RATE_CONTEMPLATIONS", "MUSE_RATE_BROWSING", "MUSE_LOGIN_ATTEMPTS",
                 "MUSE_LOGIN_ATTEMPTS_PER_IP", "MUSE_SIGNUPS_PER_IP")


@register()
def rates_are_well_formed(app_configs, **kwargs) -> list[Error]:
    errors = []
    for name in RATE_SETTINGS:
        try:
            parse_rate(getattr(settings, name), name)
        except ImproperlyConfigured as problem:
            errors.append(Error(str(problem), id="muse.E001"))
    return errors
