from datetime import tzinfo
from urllib.parse import urlencode
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from museapp.agents import strategies
from museapp.agents.roles import agent_count
from museapp.agents.rosters import roster_choices
from museapp.agents.starting import judge_for, strategy_for
from museapp.chat import services, sidebar
from museapp.chat.access import get_conversation_for_user, parse_id
from museapp.files.services import attachments_unsent
from museapp.llm.config import available_models, configured_model
from museapp.sharing.services import shared_links_of
from museapp.search import query as search_query
from museapp.search import services as search_services
from museapp.turns import services as turns
from museapp.turns.limits import RateLimited
from museapp.web.forms import SettingsForm

LOCAL_NOTICE_DISMISSED = "local_model_notice_dismissed"


def home(request: HttpRequest) -> HttpResponse:
    latest = services.conversation_latest(user=request.user)
    if latest is not None:
        return redirect("chat:detail", conversation_id=latest.pk)
    conversation = services.conversation_open_new(user=request.user)
    return redirect("chat:detail", conversation_id=conversation.pk)


@require_POST
def new_conversation(request: HttpRequest) -> HttpResponse:
    conversation = services.conversation_open_new(user=request.user)
    return redirect("chat:detail", conversation_id=conversation.pk)


def conversation_detail(request: HttpRequest, conversation_id: str) -> HttpResponse:
    """The conversation's page; ``?m=<id>`` (a search result) loads the
    branch shown from that message on, for the page to scroll to it."""
    conversation = get_conversation_for_user(request.user, conversation_id)
    found = _found_id(request)
    messages_list, older = services.conversation_messages(conversation=conversation, showing_id=found)
    if found and found not in {m.pk for m in messages_list} and services.message_in(conversation=conversation,
                                                                                  message_id=found):
        messages.info(request, NOT_SHOWN)
    return TemplateResponse(
        request,
        "chat/page.html",
        {
            "conversation": conversation,
            "current": conversation,
            **_sidebar(request, conversation),
            "temporary_hours": _hours(settings.MUSE_TEMPORARY_HOURS),
            "unsent_attachments": attachments_unsent(conversation=conversation),
            "file_limits": {"bytes": settings.MUSE_FILE_MAX_BYTES, "count": settings.MUSE_FILES_PER_MESSAGE},
            "message_limit": settings.MUSE_MAX_MESSAGE_CHARS,
            **_page(messages_list, older),
            **_model_context(request, conversation),
        },
    )


def _zone(request: HttpRequest) -> tzinfo:
    """The person's time zone, as their browser tells it (static/js/muse.js
    sets the ``tz`` cookie); the server's (TIME_ZONE) until it has."""
    try:
        return ZoneInfo(request.COOKIES.get("tz", ""))
    except (ValueError, ZoneInfoNotFoundError):
        return timezone.get_current_timezone()


def _sidebar(request: HttpRequest, current) -> dict:
    """The first page of the conversation list, with the conversation open
    in ``current`` (highlighted on whichever page it comes)."""
    return {"current": current, "sidebar": sidebar.sidebar_page(user=request.user, after=None, zone=_zone(request))}


def _hours(hours: float) -> str:
    return f"{hours:g} hour{'' if hours == 1 else 's'}"


def conversation_sidebar(request: HttpRequest, conversation_id: str) -> HttpResponse:
    """The next page of the conversation list, as the sidebar scrolls (htmx
    swaps it in for the "more" marker), counted against the browsing limit."""
    current = get_conversation_for_user(request.user, conversation_id)
    after = sidebar.Cursor.parse(request.GET["after"]) if "after" in request.GET else None
    try:
        page = turns.conversations_more(user=request.user, after=after, zone=_zone(request))
    except services.InvalidMessage as refused:  # the marker stays (htmx swaps a 200 only), with a button
        context = {"current": current, "after": request.GET.get("after", ""), "refused": refused.reason}
        return TemplateResponse(request, "chat/_conversation_more.html", context)
    return TemplateResponse(request, "chat/_conversation_page.html", {"current": current, "sidebar": page})


def _current_of(request: HttpRequest, fallback):
    """The conversation open in the page that posted (its "current" field),
    or ``fallback``: the list sent back highlights it."""
    try:
        return get_conversation_for_user(request.user, request.POST.get("current", ""))
    except Http404:
        return fallback


def _pin(request: HttpRequest, conversation_id: str, *, pinned: bool) -> HttpResponse:
    conversation = get_conversation_for_user(request.user, conversation_id)
    services.conversation_pin(conversation=conversation, pinned=pinned)
    current = _current_of(request, conversation)
    if request.headers.get("HX-Request"):
        return TemplateResponse(request, "chat/_conversation_page.html", _sidebar(request, current))
    return redirect("chat:detail", conversation_id=current.pk)


@require_POST
def conversation_pin(request: HttpRequest, conversation_id: str) -> HttpResponse:
    return _pin(request, conversation_id, pinned=True)


@require_POST
def conversation_unpin(request: HttpRequest, conversation_id: str) -> HttpResponse:
    return _pin(request, conversation_id, pinned=False)


@require_POST
def conversation_temporary(request: HttpRequest, conversation_id: str) -> HttpResponse:
    """The Temporary chat switch of a chat without messages: htmx gets the
    notice back, and the list (where the chat leaves or comes back)."""
    conversation = get_conversation_for_user(request.user, conversation_id)
    try:
        conversation = services.conversation_set_temporary(
            conversation=conversation, temporary=request.POST.get("temporary") == "on")
    except services.InvalidMessage as invalid:
        return _changed(request, conversation, "chat/_temporary_notice.html", {"conversation": conversation},
                        invalid.reason)
    context = {"conversation": conversation, "temporary_hours": _hours(settings.MUSE_TEMPORARY_HOURS),
               "list_oob": True, **_sidebar(request, conversation)}
    return _changed(request, conversation, "chat/_temporary_notice.html", context, "")


NOT_SHOWN = ("The message you searched for is in another version of this conversation: "
             "the arrows under a message switch versions.")


def _found_id(request: HttpRequest) -> int | None:
    try:
        return parse_id(request.GET["m"]) if "m" in request.GET else None
    except Http404:
        return None  # a mangled link still opens the conversation


def search(request: HttpRequest) -> HttpResponse:
    """Results as the person types in "Search conversations" (htmx swaps
    them in above the list); an empty box brings the list back."""
    text = request.GET.get("q", "")
    context = {"query": text[:search_query.MAX_CHARS], "active": bool(search_query.terms_of(text))}
    try:
        context["results"] = search_services.conversations_search_counted(user=request.user, text=text)
    except RateLimited as refused:
        context["refused"] = refused.reason
    return TemplateResponse(request, "search/_results.html", context)


def _page(messages: list, older: bool) -> dict:
    """A page of the branch shown, with the marker that loads the one before it."""
    return {"messages_list": messages, "older_before": messages[0].pk if older and messages else None}


def conversation_older(request: HttpRequest, conversation_id: str) -> HttpResponse:
    """Earlier messages, for the page scrolling up (htmx swaps them in for the
    "earlier messages" marker)."""
    conversation = get_conversation_for_user(request.user, conversation_id)
    before = parse_id(request.GET["before"]) if "before" in request.GET else None
    try:
        page, older = turns.older_messages(conversation=conversation, before_id=before)
    except services.InvalidMessage as refused:  # the marker stays (htmx swaps a 200 only), with a button to try again
        context = {"conversation": conversation, "older_before": before, "older_refused": refused.reason}
        return TemplateResponse(request, "chat/_older_messages.html", context)
    context = {"conversation": conversation, **_page(page, older)}
    return TemplateResponse(request, "chat/_older_messages.html", context)


def _model_context(request: HttpRequest, conversation) -> dict:
    model = configured_model(conversation.model)
    choices = available_models()
    current = next((c for c in choices if c.id == model), None)
    return {
        "model_configured": bool(model),
        "model_choices": choices,
        "current_model": current,
        "show_local_notice": bool(current and current.is_local)
        and not request.session.get(LOCAL_NOTICE_DISMISSED),
        "strategies": list(strategies.STRATEGIES.values()),
        "strategy": strategy_for(conversation, model),
        "judge": judge_for(conversation),
        "agent_count": agent_count(),
        "rosters": roster_choices(agent_count(), choices),
    }


def _changed(request: HttpRequest, conversation, template: str, context: dict, error: str) -> HttpResponse:
    """htmx gets the changed piece back (400 with the reason on an error); a
    plain form post returns to the conversation, with the reason shown."""
    if request.headers.get("HX-Request"):
        return TemplateResponse(request, template, {**context, "error": error}, status=400 if error else 200)
    if error:
        messages.error(request, error)
    return redirect("chat:detail", conversation_id=conversation.pk)


@require_POST
def conversation_pick_model(request: HttpRequest, conversation_id: str) -> HttpResponse:
    conversation = get_conversation_for_user(request.user, conversation_id)
    error = ""
    try:
        services.conversation_pick_model(conversation=conversation, model=request.POST.get("model", ""))
    except services.InvalidMessage as invalid:
        error = invalid.reason
    context = {"conversation": conversation, "oob_notice": True, **_model_context(request, conversation)}
    return _changed(request, conversation, "chat/_model_picker.html", context, error)


@require_POST
def conversation_preferences(request: HttpRequest, conversation_id: str) -> HttpResponse:
    """The Contemplating switch and the merge menu, saved as they change."""
    conversation = get_conversation_for_user(request.user, conversation_id)
    try:
        turns.conversation_set_preferences(
            conversation=conversation,
            contemplate=request.POST.get("contemplate") == "on",
            auto=request.POST.get("auto") == "on",
            roster=request.POST.get("roster"),
            strategy=request.POST.get("strategy") or None,
            judge=request.POST.get("judge"),
        )
    except services.InvalidMessage as invalid:
        return HttpResponse(invalid.reason, status=400)
    if request.headers.get("HX-Request"):
        return HttpResponse(status=204)
    return redirect("chat:detail", conversation_id=conversation.pk)


@require_POST
def dismiss_local_notice(request: HttpRequest) -> HttpResponse:
    request.session[LOCAL_NOTICE_DISMISSED] = True
    if request.headers.get("HX-Request"):
        return HttpResponse("")
    return redirect("chat:home")


@require_POST
def conversation_rename(request: HttpRequest, conversation_id: str) -> HttpResponse:
    """The renamed item comes back in place; the page's heading follows only
    on the page of the renamed conversation (the only one that has it)."""
    conversation = get_conversation_for_user(request.user, conversation_id)
    current = _current_of(request, None)
    error = ""
    try:
        services.conversation_rename(conversation=conversation, title=request.POST.get("title", ""))
    except services.InvalidMessage as invalid:
        error = invalid.reason
        conversation.refresh_from_db()
    context = {"conversation": conversation, "current": current, "renamed": not error}
    return _changed(request, current or conversation, "chat/_conversation_item.html", context, error)


@require_POST
def conversation_delete(request: HttpRequest, conversation_id: str) -> HttpResponse:
    """Deleting another conversation takes its item out of the list and
    leaves the page where it is; deleting the open one goes home."""
    conversation = get_conversation_for_user(request.user, conversation_id)
    current = _current_of(request, None)
    elsewhere = current is not None and current.pk != conversation.pk
    turns.conversation_delete(conversation=conversation)
    if request.headers.get("HX-Request"):
        if elsewhere:
            return HttpResponse("")  # swapped for the item
        response = HttpResponse(status=204)
        response["HX-Redirect"] = reverse("chat:home")
        return response
    return redirect("chat:detail", conversation_id=current.pk) if elsewhere else redirect("chat:home")


@require_http_methods(["GET", "POST"])
def settings_page(request: HttpRequest) -> HttpResponse:
    """The person's own settings; a save redirects back here (so a reload
    never posts twice) with "Saved." shown once. ``?from=<id>`` is the
    conversation the person came from, which "Back to chat" opens."""
    came_from = _came_from(request)
    if request.method == "POST":
        form = SettingsForm(request.POST)
        if form.is_valid():
            services.preferences_update(user=request.user, **form.cleaned_data)
            messages.success(request, "Saved.")
            return redirect(_settings_url(came_from))
    else:
        preferences = services.preferences_for(user_id=request.user.pk)
        form = SettingsForm(initial={name: getattr(preferences, name) for name in SettingsForm.base_fields})
    context = {"form": form, "shared_links": shared_links_of(user=request.user), "came_from": came_from}
    return TemplateResponse(request, "chat/settings.html", context, status=400 if form.errors else 200)


def _came_from(request: HttpRequest):
    """The person's own conversation named by ``?from``; None for anything
    else (then "Back to chat" opens the newest)."""
    try:
        return get_conversation_for_user(request.user, request.GET.get("from", ""))
    except Http404:
        return None


def _settings_url(came_from) -> str:
    url = reverse("chat:settings")
    return f"{url}?{urlencode({'from': came_from.pk})}" if came_from else url
