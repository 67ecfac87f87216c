from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.views.decorators.http import require_POST

from museapp.chat.access import get_message_for_user
from museapp.chat.models import Message
from museapp.feedback import services


def _rating_response(request: HttpRequest, message_id, error: str = "") -> TemplateResponse:
    message = Message.objects.for_display().get(pk=message_id)
    return TemplateResponse(request, "feedback/_rating.html", {"message": message, "error": error},
                            status=400 if error else 200)


@require_POST
def rate(request: HttpRequest, message_id: str) -> HttpResponse:
    message = get_message_for_user(request.user, message_id)
    value = {"up": 1, "down": -1}.get(request.POST.get("value", ""), 0)
    try:
        services.rating_toggle(user=request.user, message=message, value=value)
    except services.InvalidFeedback as invalid:
        return _rating_response(request, message.pk, invalid.reason)
    return _rating_response(request, message.pk)


@require_POST
def explain(request: HttpRequest, message_id: str) -> HttpResponse:
    message = get_message_for_user(request.user, message_id)
    try:
        services.rating_explain(user=request.user, message=message,
                                reasons=request.POST.getlist("reasons"), comment=request.POST.get("comment", ""))
    except services.InvalidFeedback as invalid:
        return _rating_response(request, message.pk, invalid.reason)
    response = _rating_response(request, message.pk)
    response.context_data["saved"] = True
    return response


@require_POST
def best_draft(request: HttpRequest, message_id: str) -> HttpResponse:
    message = get_message_for_user(request.user, message_id)
    error = ""
    try:
        services.best_draft_pick(user=request.user, message=message, run_id=request.POST.get("run_id"))
    except services.InvalidFeedback as invalid:
        error = invalid.reason
    message = Message.objects.for_display().get(pk=message.pk)
    return TemplateResponse(request, "agents/_contemplation.html",
                            {"message": message, "contemplation": message.contemplation_or_none, "error": error},
                            status=400 if error else 200)
