from django import template
from django.urls import reverse

from museapp.sharing.models import SharedLink

register = template.Library()


@register.simple_tag(takes_context=True)
def shared_url(context, link: SharedLink) -> str:
    """The link's full address, to copy and send (the request's own host)."""
    return context["request"].build_absolute_uri(reverse("sharing:shared", args=[link.token]))
