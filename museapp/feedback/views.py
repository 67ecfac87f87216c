import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.views.decorators.http import require_POST

from museapp.chat.access import get_message_for_user, parse_id
from museapp.chat.models import Message
from museapp.chat.selectors import message_for_display
from museapp.feedback import services
from museapp.feedback.export import export_lines
from museapp.feedback.insights import chart_dots, chart_points, report
from museapp.feedback.preference import comparisons
from museapp.feedback.models import EXPORT_PERMISSION
from museapp.ops.streaming import served_as_it_goes
from museapp.streams import events
from museapp.streams.names import conversation_group

log = logging.getLogger(__name__)


def _rating_response(request: HttpRequest, message_id, error: str = "", pressed: str = "") -> TemplateResponse:
    """The rating piece again; ``pressed`` names the control that keeps the
    focus (htmx focuses the swapped-in [autofocus])."""
    message = Message.objects.for_display().get(pk=message_id)
    return TemplateResponse(request, "feedback/_rating.html",
                            {"message": message, "error": error, "pressed": "" if error else pressed},
                            status=400 if error else 200)


@require_POST
def rate(request: HttpRequest, message_id: str) -> HttpResponse:
    message = get_message_for_user(request.user, message_id)
    pressed = request.POST.get("value", "")
    value = {"up": 1, "down": -1}.get(pressed, 0)
    try:
        services.rating_toggle(user=request.user, message=message, value=value)
    except services.InvalidFeedback as invalid:
        return _rating_response(request, message.pk, invalid.reason)
    return _rating_response(request, message.pk, pressed=pressed)


@require_POST
def explain(request: HttpRequest, message_id: str) -> HttpResponse:
    message = get_message_for_user(request.user, message_id)
    try:
        services.rating_explain(user=request.user, message=message,
                                reasons=request.POST.getlist("reasons"), comment=request.POST.get("comment", ""))
    except services.InvalidFeedback as invalid:
        return _rating_response(request, message.pk, invalid.reason)
    return _rating_response(request, message.pk, pressed="explain")


def _draft_choice(request: HttpRequest, message_id: str, choose) -> tuple[Message, str]:
    """Apply a choice about one of the answer's drafts; the answer as it now
    is (loaded for display) and the reason it was refused, or ""."""
    message = get_message_for_user(request.user, message_id)
    try:
        choose(user=request.user, message=message, run_id=request.POST.get("run_id"))
        error = ""
    except services.InvalidFeedback as invalid:
        error = invalid.reason
    return Message.objects.for_display().get(pk=message.pk), error


@require_POST
def best_draft(request: HttpRequest, message_id: str) -> HttpResponse:
    message, error = _draft_choice(request, message_id, services.best_draft_pick)
    # The pressed panel stays open (with the drafts unfolded), showing its pressed button.
    opened = parse_id(request.POST.get("run_id", "")) if not error else None
    return TemplateResponse(request, "agents/_contemplation.html",
                            {"message": message, "contemplation": message.contemplation_or_none, "error": error,
                             "opened_run": opened},
                            status=400 if error else 200)


@require_POST
def use_draft(request: HttpRequest, message_id: str) -> HttpResponse:
    """"Use this draft": the draft becomes a new version of the answer.
    Every page of the conversation, this one too, is shown the new version
    by its socket (the branch changed); the reply swaps nothing, as the
    answer it was asked from may already have been replaced by then."""
    message = get_message_for_user(request.user, message_id)
    try:
        services.draft_use(user=request.user, message=message, run_id=request.POST.get("run_id"))
    except services.InvalidFeedback as invalid:
        shown = message_for_display(conversation=message.conversation, message_id=message.pk)
        return TemplateResponse(request, "chat/_message.html", {"message": shown, "draft_error": invalid.reason},
                                status=400)
    if request.headers.get("HX-Request"):
        return HttpResponse(status=204)
    return redirect("chat:detail", conversation_id=message.conversation_id)


@require_POST
def compare(request: HttpRequest, message_id: str) -> HttpResponse:
    """A blind comparison's choice: the answer is shown again, unblinded,
    with the preferred answer as the turn's; other tabs are told."""
    message = get_message_for_user(request.user, message_id)
    try:
        services.comparison_choose(message=message, choice=request.POST.get("choice"))
        error = ""
    except services.InvalidFeedback as invalid:
        error = invalid.reason
    message = Message.objects.for_display().get(pk=message.pk)
    if not error:
        _tell_other_tabs(message)
    return TemplateResponse(request, "chat/_message.html", {"message": message, "compare_error": error},
                            status=400 if error else 200)


def _tell_other_tabs(message: Message) -> None:
    try:
        async_to_sync(get_channel_layer().group_send)(conversation_group(message.conversation_id),
                                                      events.message_changed(message.pk))
    except Exception:  # noqa: BLE001 - the change is saved; other tabs show it when they reload or reconnect
        log.warning("could not tell message %s's other tabs that it changed", message.pk, exc_info=True)


# Every person's prompts, answers and comments: a named permission, not is_staff
# (which only opens the admin's door). Someone logged in without it gets 403;
# someone logged out never gets here (LoginRequiredMiddleware sends them to log in).
analysts_only = permission_required(EXPORT_PERMISSION, raise_exception=True)


PERIODS = {"7": 7, "30": 30, "90": 90, "all": None}


@analysts_only
def insights(request: HttpRequest) -> HttpResponse:
    period = request.GET.get("period", "30")
    if period not in PERIODS:
        period = "30"
    data = report(PERIODS[period])
    return TemplateResponse(request, "feedback/insights.html", {
        **data,
        "comparisons": comparisons(PERIODS[period]),
        "tables": [("Quick versus contemplating", data["modes"]), ("By merge strategy", data["strategies"]),
                   ("By number of agents", data["agent_counts"]), ("By judge model", data["judges"]),
                   ("Every draft merged, or some lost", data["completeness"])],
        "period": period,
        "periods": list(PERIODS),
        "quick_points": chart_points(data["daily"], "quick"),
        "contemplating_points": chart_points(data["daily"], "contemplating"),
        "quick_dots": chart_dots(data["daily"], "quick"),
        "contemplating_dots": chart_dots(data["daily"], "contemplating"),
    })


@analysts_only
def export(request: HttpRequest) -> HttpResponse:
    fmt = request.GET.get("format", "jsonl")
    if fmt not in ("jsonl", "csv"):
        fmt = "jsonl"
    pairs = request.GET.get("pairs") == "1"
    response = StreamingHttpResponse(served_as_it_goes(request, export_lines(fmt=fmt, pairs=pairs)),
                                     content_type="text/csv" if fmt == "csv" else "application/jsonl")
    name = f"muse-{'pairs' if pairs else 'feedback'}.{fmt}"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
