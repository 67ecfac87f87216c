"""Every response carries a Content-Security-Policy that allows no inline
script, eval or inline style, and Muse's pages need none."""

import pytest
from django.test import Client

from museapp.streams.markdown import render_markdown
from museapp.chat.models import Conversation, Message
from museapp.feedback.models import Rating
from tests.markup import parse_html

pytestmark = pytest.mark.django_db

POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)


@pytest.fixture
def staff(client, django_user_model):
    person = django_user_model.objects.create_superuser("root", "root@example.com", "x")
    client.force_login(person)
    return person


@pytest.fixture
def conversation(staff):
    conversation = Conversation.objects.create(user=staff, title="Tables")
    Message.objects.create(conversation=conversation, author="user", content="A table, please")
    answer = Message.objects.create(
        conversation=conversation, author="assistant", status="done",
        content="| left | middle | right |\n|:--|:-:|--:|\n| 1 | 2 | 3 |\n\n```python\nx = 1\n```",
    )
    Rating.objects.create(user=staff, message=answer, value=1, comment="neat")
    return conversation


def test_the_policy_allows_scripts_and_styles_only_from_muses_own_files(settings):
    assert settings.CONTENT_SECURITY_POLICY == POLICY
    assert "unsafe-inline" not in POLICY and "unsafe-eval" not in POLICY


ANONYMOUS_PAGES = {"/accounts/login/", "/accounts/signup/"}


def get(client, path: str, conversation):
    """Log-in and sign-up as a stranger sees them, the rest as staff."""
    return (Client() if path in ANONYMOUS_PAGES else client).get(path.format(conversation=conversation.pk))


@pytest.mark.parametrize("path", [
    "/accounts/login/",
    "/accounts/signup/",
    "/c/{conversation}/",
    "/insights/",
    "/insights/evals/",
    "/admin/",
    "/admin/chat/message/",
    "/static/css/muse.css",
    "/static/favicon.svg",
    "/no-such-page/",
])
def test_every_response_carries_the_security_headers(client, conversation, path):
    response = get(client, path, conversation)

    assert response.status_code in (200, 404)
    assert response["Content-Security-Policy"] == POLICY  # frame-ancestors 'none' included
    if not path.startswith("/static/"):  # WhiteNoise answers before the clickjacking middleware
        assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_a_redirect_and_a_refusal_carry_the_policy_too():
    redirect = Client().get("/")
    refusal = Client(enforce_csrf_checks=True).post("/accounts/login/", {"username": "a", "password": "b"})

    assert redirect.status_code == 302 and redirect["Content-Security-Policy"] == POLICY
    assert refusal.status_code == 403 and refusal["Content-Security-Policy"] == POLICY


def test_debug_error_pages_go_without_it_for_their_inline_styles(client, settings):
    settings.DEBUG = True

    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert "Content-Security-Policy" not in response


@pytest.mark.parametrize("path", ["/accounts/login/", "/accounts/signup/", "/c/{conversation}/", "/insights/"])
def test_muses_pages_hold_no_inline_script_style_or_event_handler(client, conversation, path):
    response = get(client, path, conversation)
    assert response.status_code == 200
    page = parse_html(response.content.decode())

    for element in page.all():
        assert not (element.tag == "script" and not element.attrs.get("src")), "inline <script>"
        assert element.tag != "style", "inline <style>"
        assert "style" not in element.attrs, (element.tag, element.attrs)
        assert not [name for name in element.attrs if name.startswith("on")], (element.tag, element.attrs)
        assert not any((value or "").strip().lower().startswith("javascript:") for value in element.attrs.values())


def test_htmx_is_told_to_inject_no_styles_and_evaluate_nothing(client, conversation):
    page = parse_html(client.get(f"/c/{conversation.pk}/").content.decode())

    config = page.one("meta", name="htmx-config").attrs["content"]
    assert config == '{"includeIndicatorStyles":false,"allowEval":false,"allowScriptTags":false}'


def test_table_alignment_in_markdown_is_a_class_not_a_style():
    html = render_markdown("| a | b | c | d |\n|:--|:-:|--:|---|\n| 1 | 2 | 3 | 4 |")

    cells = parse_html(html).all("th") + parse_html(html).all("td")
    assert [cell.attrs.get("class") for cell in cells] == ["align-left", "align-center", "align-right", None] * 2
    assert "style" not in html
