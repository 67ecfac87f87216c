from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from museapp.chat.access import get_conversation_for_user
from museapp.chat.services import InvalidMessage
from museapp.sharing import services


@require_POST
def share(request: HttpRequest, conversation_id: str) -> HttpResponse:
    """Share the branch shown (again): htmx gets the menu's share panel with
    the link; a plain form post goes to Settings, which lists it."""
    conversation = get_conversation_for_user(request.user, conversation_id)
    include_drafts = request.POST.get("include_drafts") == "on"
    link, error = None, ""
    try:
        link = services.shared_link_share(conversation=conversation, include_drafts=include_drafts)
    except InvalidMessage as refused:
        error = refused.reason
    if request.headers.get("HX-Request"):
        context = {"conversation": conversation, "shared_link": link, "share_drafts": include_drafts,
                   "share_error": error}
        return TemplateResponse(request, "sharing/_share_menu.html", context, status=400 if error else 200)
    if error:
        messages.error(request, error)
    return redirect("chat:settings")


@require_POST
def stop(request: HttpRequest, conversation_id: str) -> HttpResponse:
    """Stop sharing: from the menu (htmx: the panel, unshared) or from
    Settings (back to Settings, saying so)."""
    conversation = get_conversation_for_user(request.user, conversation_id)
    services.shared_link_stop(conversation=conversation)
    if request.headers.get("HX-Request"):
        context = {"conversation": conversation, "share_stopped": True}
        return TemplateResponse(request, "sharing/_share_menu.html", context)
    messages.success(request, f"Stopped sharing “{conversation.display_title}”.")
    return redirect("chat:settings")


@login_not_required
@never_cache  # a stopped link must answer 404 at once, not from a cache
@require_GET
def shared_page(request: HttpRequest, token: str) -> HttpResponse:
    """The public, read-only page of a shared link: the snapshot only, with
    no controls, no socket and nothing of the person's beyond it."""
    link = services.shared_link_for_token(token)
    response = TemplateResponse(request, "sharing/shared_page.html", {"link": link, "shown": link.shown_messages})
    response["X-Robots-Tag"] = "noindex"
    response["Referrer-Policy"] = "no-referrer"  # the token is in this page's address
    return response
