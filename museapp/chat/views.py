from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.http import require_POST

from museapp.chat import services
from museapp.chat.access import get_conversation_for_user
from museapp.llm.config import configured_model


def home(request: HttpRequest) -> HttpResponse:
    latest = services.conversation_list(user=request.user)[:1]
    if latest:
        return redirect("chat:detail", conversation_id=latest[0].pk)
    conversation = services.conversation_open_new(user=request.user)
    return redirect("chat:detail", conversation_id=conversation.pk)


@require_POST
def new_conversation(request: HttpRequest) -> HttpResponse:
    conversation = services.conversation_open_new(user=request.user)
    return redirect("chat:detail", conversation_id=conversation.pk)


def conversation_detail(request: HttpRequest, conversation_id: str) -> HttpResponse:
    conversation = get_conversation_for_user(request.user, conversation_id)
    return TemplateResponse(
        request,
        "chat/page.html",
        {
            "conversation": conversation,
            "current": conversation,
            "conversations": services.conversation_list(user=request.user),
            "messages_list": services.conversation_messages(conversation=conversation),
            "model_configured": bool(configured_model()),
        },
    )


@require_POST
def conversation_rename(request: HttpRequest, conversation_id: str) -> HttpResponse:
    conversation = get_conversation_for_user(request.user, conversation_id)
    error = ""
    try:
        services.conversation_rename(conversation=conversation, title=request.POST.get("title", ""))
    except services.InvalidMessage as invalid:
        error = invalid.reason
        conversation.refresh_from_db()
    if request.headers.get("HX-Request"):
        return TemplateResponse(
            request,
            "chat/_conversation_item.html",
            {"conversation": conversation, "current": conversation, "error": error, "renamed": not error},
            status=400 if error else 200,
        )
    if error:
        messages.error(request, error)
    return redirect("chat:detail", conversation_id=conversation.pk)


@require_POST
def conversation_delete(request: HttpRequest, conversation_id: str) -> HttpResponse:
    conversation = get_conversation_for_user(request.user, conversation_id)
    services.conversation_delete(conversation=conversation)
    response = redirect("chat:home")
    if request.headers.get("HX-Request"):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = reverse("chat:home")
    return response
