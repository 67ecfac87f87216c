"""Security headers Django 5.2 does not set itself: a Content-Security-Policy
on every response (Django gets its own in 6.0).

The policy allows scripts and styles only from Muse's own static files: no
inline script, no eval, no inline style. htmx is configured for that in
base.html (``htmx-config``); model output and Markdown never carry markup
that could run (see markdown.py and frames.py).
"""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.deprecation import MiddlewareMixin


class ContentSecurityPolicyMiddleware(MiddlewareMixin):
    """Sync and async alike (MiddlewareMixin), so the ASGI handler keeps the
    request on the event loop. Listed before WhiteNoise, so static files
    (an SVG can carry script) get the header too."""

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        if settings.DEBUG and response.status_code >= 400:
            return response  # Django's debug error pages use inline script and style
        if settings.CONTENT_SECURITY_POLICY:
            response.headers.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        return response
