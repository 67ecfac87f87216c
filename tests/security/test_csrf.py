"""Every request that changes something needs the CSRF token; the chat socket
refuses pages from other origins (tests/chat/test_consumer.py,
test_a_foreign_origin_is_refused)."""

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from museapp.chat.models import Conversation, Message
from museapp.feedback.models import Rating
from museapp.files.models import Attachment

pytestmark = pytest.mark.django_db

CHANGES = {  # URL name -> what a forged form would post
    "signup": {"username": "forged", "password1": "violet kettle 7391", "password2": "violet kettle 7391"},
    "login": {"username": "ada", "password": "correct horse 42"},
    "logout": {},
    "delete_account": {"password": "correct horse 42"},
    "chat:new": {},
    "chat:dismiss_local_notice": {},
    "chat:rename": {"title": "forged"},
    "chat:delete": {},
    "chat:pick_model": {"model": "openai/fake-model-2"},
    "chat:preferences": {"contemplate": "on"},
    "chat:pin": {},
    "chat:unpin": {},
    "chat:temporary": {"temporary": "on"},
    "chat:attachment_upload": {},
    "chat:attachment_remove": {},
    "chat:settings": {"compare_answers": "on"},
    "feedback:rate": {"value": "down"},
    "feedback:explain": {"reasons": "wrong", "comment": "forged"},
    "feedback:best_draft": {"run_id": "1"},
    "feedback:use_draft": {"run_id": "1"},
    "feedback:compare": {"choice": "1"},
    "sharing:share": {"include_drafts": "on"},
    "sharing:stop": {},
}
READS = {"chat:home", "chat:detail", "chat:older", "chat:sidebar", "chat:search", "chat:attachment",
         "chat:attachment_download", "feedback:insights",
         "feedback:export", "evals:evaluations", "sharing:shared", "exports:markdown", "exports:json", "exports:my_data"}
PUBLIC = {"login", "signup", "sharing:shared"}  # open without logging in: a shared link is read by anyone who has it


@pytest.fixture
def answer(user):
    conversation = Conversation.objects.create(user=user, title="Mine")
    return Message.objects.create(conversation=conversation, author="assistant", content="hi", status="done")


def path_of(name: str, answer: Message) -> str:
    attachment_id = Attachment.objects.filter(conversation_id=answer.conversation_id).values_list(
        "pk", flat=True).first() or 1
    if name == "chat:attachment_download":
        return reverse(name, args=[attachment_id])
    if name in {"chat:attachment", "chat:attachment_remove"}:
        return reverse(name, args=[answer.conversation_id, attachment_id])
    if name == "sharing:shared":
        return reverse(name, args=["A" * 43])  # a token no link has
    if name.startswith(("chat:", "sharing:", "exports:")) and name not in {
            "chat:new", "chat:dismiss_local_notice", "chat:home", "chat:settings", "chat:search", "exports:my_data"}:
        return reverse(name, args=[answer.conversation_id])
    if name.startswith("feedback:") and name not in {"feedback:insights", "feedback:export"}:
        return reverse(name, args=[answer.pk])
    return reverse(name)


def muse_url_names() -> set[str]:
    def walk(patterns, namespace=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                if pattern.app_name != "admin":
                    yield from walk(pattern.url_patterns, f"{pattern.namespace}:" if pattern.namespace else namespace)
            elif isinstance(pattern, URLPattern) and pattern.name:
                yield namespace + pattern.name
    return set(walk(get_resolver().url_patterns))


def test_every_url_is_known_as_a_read_or_a_change():
    assert muse_url_names() == READS | set(CHANGES)


@pytest.fixture
def forger(user):
    """A logged-in browser posting from another site: no CSRF token."""
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)
    return browser


@pytest.mark.parametrize("name", sorted(CHANGES))
def test_a_post_without_the_csrf_token_is_refused(forger, answer, name):
    response = forger.post(path_of(name, answer), CHANGES[name])

    assert response.status_code == 403


def test_a_forged_rating_is_refused_and_saves_nothing(forger, answer):
    response = forger.post(f"/m/{answer.pk}/rate/", {"value": "down"})

    assert response.status_code == 403
    assert not Rating.objects.exists()


def test_a_forged_logout_is_refused_and_keeps_the_person_logged_in(forger, user):
    response = forger.post("/accounts/logout/")

    assert response.status_code == 403
    assert forger.session.get("_auth_user_id") == str(user.pk)


def test_with_the_token_the_same_rating_is_saved(forger, answer):  # so the 403 above is CSRF's
    forger.get(f"/c/{answer.conversation_id}/")  # as the page itself would, it gets the token
    token = forger.cookies["csrftoken"].value

    response = forger.post(f"/m/{answer.pk}/rate/", {"value": "down"}, HTTP_X_CSRFTOKEN=token)

    assert response.status_code == 200
    assert Rating.objects.get(message=answer).value == -1


def test_every_url_but_the_public_ones_sends_someone_logged_out_to_log_in(answer):
    opened = set()
    for name in sorted(muse_url_names()):
        stranger = Client()  # a fresh one each time: logging in or signing up must not carry over
        path = path_of(name, answer)
        response = stranger.post(path, CHANGES[name]) if name in CHANGES else stranger.get(path)
        if not (response.status_code == 302 and response["Location"].startswith("/accounts/login/")):
            opened.add(name)

    assert opened == PUBLIC
