from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET

from museapp.chat.access import get_conversation_for_user
from museapp.exports import services
from museapp.exports.my_data import CONVERSATIONS_PER_BATCH
from museapp.ops.streaming import served_as_it_goes
from museapp.turns.limits import RateLimited


def _refused(limited: RateLimited) -> HttpResponse:
    return HttpResponse(limited.reason, status=429, content_type="text/plain; charset=utf-8")


def _attachment(response: HttpResponse, filename: str) -> HttpResponse:
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


@require_GET
def conversation_export(request: HttpRequest, conversation_id: str, fmt: str) -> HttpResponse:
    conversation = get_conversation_for_user(request.user, conversation_id)
    try:
        download = services.conversation_download(conversation=conversation, fmt=fmt)
    except RateLimited as limited:
        return _refused(limited)
    return _attachment(HttpResponse(download.body, content_type=download.content_type), download.filename)


@require_GET
def my_data(request: HttpRequest) -> HttpResponse:
    try:
        lines = services.my_data_download(user=request.user)
    except RateLimited as limited:
        return _refused(limited)
    # A part per few conversations: a part is held whole while it is sent.
    response = StreamingHttpResponse(served_as_it_goes(request, lines, per_part=CONVERSATIONS_PER_BATCH // 5),
                                     content_type="application/json; charset=utf-8")
    return _attachment(response, services.file_name(f"muse-{request.user.get_username()}", "json"))
