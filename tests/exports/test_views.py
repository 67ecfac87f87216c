"""The downloads a person asks for: Export in a conversation's menu (as
Markdown or JSON) and Download my data in Settings; only their own, and no
faster than the browsing limit allows."""

import json

import pytest
from asgiref.sync import async_to_sync
from django.test import AsyncClient

from museapp.chat.models import Conversation, Message
from tests.exports.conversations import HOSTILE, rich_conversation
from tests.markup import parse_html

pytestmark = pytest.mark.django_db


@pytest.fixture
def rich(user):
    return rich_conversation(user, title='Picnic "plans" / <b>2026</b>')


@pytest.fixture
def logged_in(client, user):
    client.force_login(user)
    return client


def test_the_menu_of_each_conversation_offers_export_as_markdown_and_as_json(logged_in, rich):
    page = parse_html(logged_in.get(f"/c/{rich.pk}/").content.decode())

    menu = page.one("li", id=f"conv-{rich.pk}").one("details", **{"class": "export-menu"})
    assert menu.attrs["aria-label"] == menu.one("summary").text == "Export"
    assert [(a.text, a.attrs["href"]) for a in menu.all("a")] == [
        ("Export as Markdown", f"/c/{rich.pk}/export.md"), ("Export as JSON", f"/c/{rich.pk}/export.json")]


def test_export_as_markdown_downloads_a_markdown_file_named_after_the_title(logged_in, rich):
    response = logged_in.get(f"/c/{rich.pk}/export.md")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/markdown; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="picnic-plans-b2026b.md"'
    assert response["X-Content-Type-Options"] == "nosniff"
    text = response.content.decode()
    assert text.startswith('# Picnic "plans" / <b>2026</b>\n')
    assert HOSTILE in text, "a download is text: nothing is escaped or dropped"


def test_export_as_json_downloads_the_tree(logged_in, rich):
    response = logged_in.get(f"/c/{rich.pk}/export.json")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="picnic-plans-b2026b.json"'
    data = json.loads(response.content)
    assert data["conversation"]["id"] == rich.pk and len(data["conversation"]["messages"]) == 7


def test_a_title_in_other_scripts_keeps_its_letters(logged_in, user):
    conversation = Conversation.objects.create(user=user, title="Пикник über Straße")

    response = logged_in.get(f"/c/{conversation.pk}/export.md")

    assert response["Content-Disposition"] == (
        "attachment; filename*=utf-8''%D0%BF%D0%B8%D0%BA%D0%BD%D0%B8%D0%BA-%C3%BCber-stra%C3%9Fe.md")


@pytest.mark.parametrize("path", ["/c/{pk}/export.md", "/c/{pk}/export.json"])
def test_someone_elses_conversation_is_a_404(client, other_user, rich, path):
    client.force_login(other_user)

    response = client.get(path.format(pk=rich.pk))

    assert response.status_code == 404
    assert b"6 \xc3\x97 7" not in response.content


@pytest.mark.parametrize("path", ["/c/1/export.md", "/c/1/export.json", "/settings/my-data.json"])
def test_someone_logged_out_is_sent_to_log_in(client, path):
    response = client.get(path)

    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/?next=")


def test_downloads_count_against_the_browsing_limit(logged_in, rich, settings):
    settings.MUSE_RATE_BROWSING = "2/min"

    assert logged_in.get(f"/c/{rich.pk}/export.md").status_code == 200
    assert logged_in.get("/settings/my-data.json").status_code == 200
    refused = logged_in.get(f"/c/{rich.pk}/export.json")

    assert refused.status_code == 429
    assert "You're flipping through messages faster than Muse allows (2 a minute)" in refused.content.decode()
    assert logged_in.get("/settings/my-data.json").status_code == 429


def test_settings_offers_download_my_data(logged_in):
    page = parse_html(logged_in.get("/settings/").content.decode())

    [link] = [a for a in page.all("a") if a.text == "Download my data"]
    assert link.attrs["href"] == "/settings/my-data.json" and "download" in link.attrs


def test_download_my_data_is_streamed_as_one_json_file(logged_in, user, rich):
    response = logged_in.get("/settings/my-data.json")

    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="muse-ada.json"'
    data = json.loads(b"".join(response.streaming_content))
    assert [c["title"] for c in data["conversations"]] == [rich.title]


def test_under_asgi_it_is_sent_as_it_is_built(user, rich):
    async def fetch():
        client = AsyncClient()
        await client.aforce_login(user)
        response = await client.get("/settings/my-data.json")
        assert response.is_async, "Django's ASGI handler reads a plain iterator whole before sending any of it"
        return [part async for part in response]

    parts = async_to_sync(fetch)()

    data = json.loads(b"".join(parts))
    assert data["profile"]["username"] == "ada" and len(data["conversations"][0]["messages"]) == 7
    assert Message.objects.filter(conversation__user=user).count() == 7
