"""The chat pages: the conversation page, the sidebar, new, rename, delete."""

import re

import pytest
from django.test import Client

from museapp.chat.models import Conversation, Message
from tests.markup import Element, parse_html

pytestmark = pytest.mark.django_db


@pytest.fixture
def conversation(user):
    return Conversation.objects.create(user=user, title="Picnic plans")


@pytest.fixture
def theirs(other_user):
    conversation = Conversation.objects.create(user=other_user, title="Mallory's secrets")
    Message.objects.create(conversation=conversation, author="user", content="my secret")
    return conversation


@pytest.fixture
def logged_in(client, user):
    client.force_login(user)
    return client


def add(conversation, author, content="", status="done", **fields) -> Message:
    return Message.objects.create(
        conversation=conversation, author=author, content=content, status=status, **fields
    )


def parse(response) -> Element:
    return parse_html(response.content.decode())


def page_of(client, conversation) -> Element:
    response = client.get(f"/c/{conversation.pk}/")
    assert response.status_code == 200
    return parse(response)


def article(page: Element, message: Message) -> Element:
    return page.one("article", data_message_id=str(message.pk))


def sidebar_order(page: Element) -> list[int]:
    items = page.one("ul", id="conversation-list").all("li")  # conversations, and their groups' headings
    return [int(item.attrs["id"].removeprefix("conv-")) for item in items if item.attrs.get("id", "").startswith("conv-")]


def markup_in(element: Element) -> list[tuple[str, dict]]:
    """Every tag inside an element, with its attributes."""
    return [(child.tag, child.attrs) for child in element.all()]


# --- logging in ---------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/c/1/", "/c/new/", "/c/1/sidebar/?after=1.1"])
def test_every_page_sends_an_anonymous_visitor_to_log_in(client, path):
    response = client.get(path)

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


def test_an_anonymous_post_changes_nothing(client, conversation):
    response = client.post(f"/c/{conversation.pk}/delete/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert Conversation.objects.filter(pk=conversation.pk).exists()


@pytest.mark.parametrize("action", ["pin", "unpin", "temporary"])
def test_an_anonymous_pin_or_switch_changes_nothing(client, conversation, action):
    response = client.post(f"/c/{conversation.pk}/{action}/", {"temporary": "on"})

    assert response["Location"].startswith("/accounts/login/")
    conversation.refresh_from_db()
    assert (conversation.pinned_at, conversation.is_temporary) == (None, False)


# --- the home page ------------------------------------------------------------


def test_the_first_visit_creates_a_conversation_and_opens_it(logged_in, user):
    response = logged_in.get("/")

    conversation = Conversation.objects.get(user=user)
    assert response.status_code == 302
    assert response["Location"] == f"/c/{conversation.pk}/"


def test_a_later_visit_opens_the_newest_conversation(logged_in, user):
    older = Conversation.objects.create(user=user, title="Older")
    Conversation.objects.create(user=user, title="Newer")
    older.save()  # touched last, so it is the newest

    response = logged_in.get("/")

    assert response["Location"] == f"/c/{older.pk}/"
    assert Conversation.objects.filter(user=user).count() == 2


# --- new chat -----------------------------------------------------------------


def test_new_chat_reuses_an_untouched_empty_conversation(logged_in, user, conversation):
    used = Conversation.objects.create(user=user)
    add(used, "user", "hello")

    first = logged_in.post("/c/new/")
    second = logged_in.post("/c/new/")

    assert first["Location"] == second["Location"] == f"/c/{conversation.pk}/"
    assert Conversation.objects.filter(user=user).count() == 2


def test_new_chat_creates_one_when_every_chat_has_messages(logged_in, user, conversation):
    add(conversation, "user", "hello")

    response = logged_in.post("/c/new/")

    fresh = Conversation.objects.filter(user=user).exclude(pk=conversation.pk).get()
    assert response["Location"] == f"/c/{fresh.pk}/"


def test_new_chat_must_be_posted(logged_in, user):
    assert logged_in.get("/c/new/").status_code == 405
    assert not Conversation.objects.filter(user=user).exists()


# --- the conversation page ----------------------------------------------------


def test_the_page_shows_each_message_as_an_article(logged_in, conversation):
    question = add(conversation, "user", "What is the capital of France?")
    answer = add(conversation, "assistant", "Paris.", model="openai/fake-model")

    page = page_of(logged_in, conversation)

    articles = page.all("article")
    assert [a.attrs["data-message-id"] for a in articles] == [str(question.pk), str(answer.pk)]
    assert articles[0].attrs["data-author"] == "user"
    assert "data-status" not in articles[0].attrs
    assert "What is the capital of France?" in articles[0].text
    assert articles[1].attrs["data-author"] == "assistant"
    assert articles[1].attrs["data-status"] == "done"
    assert articles[1].one("p").text == "Paris."
    assert "Fake model" in articles[1].text  # the model's label from MUSE_MODELS


def test_the_page_has_the_message_box_and_the_send_button(logged_in, conversation):
    page = page_of(logged_in, conversation)

    composer = page.one("form", id="composer")
    assert composer.one("textarea").attrs["aria-label"] == "Message"
    assert composer.one("textarea").attrs["name"] == "message"
    # "Attach it as a text file" is shown only past the message limit, "Options" only on a phone
    assert [b.attrs.get("aria-label") or b.text.strip() for b in composer.all("button")] == [
        "Attach files", "Send", "Attach it as a text file", "Options"]
    assert page.one("h1").text == "Picnic plans"


def test_the_message_box_cuts_nothing_and_the_page_knows_the_limit(logged_in, conversation, settings):
    composer = page_of(logged_in, conversation).one("form", id="composer")

    assert "maxlength" not in composer.one("textarea").attrs
    assert composer.attrs["data-max-chars"] == str(settings.MUSE_MAX_MESSAGE_CHARS)


def test_an_empty_conversation_shows_a_hint_and_no_messages(logged_in, conversation):
    page = page_of(logged_in, conversation)

    assert page.all("article") == []
    assert "Ask anything." in page.one(id="empty-hint").text


def test_a_failed_answer_shows_its_reason_a_retry_button_and_the_ways_to_regenerate(logged_in, conversation):
    add(conversation, "user", "break please")
    answer = add(conversation, "assistant", status="error", error="The provider had an internal error.")

    shown = article(page_of(logged_in, conversation), answer)

    assert shown.attrs["data-status"] == "error"
    assert shown.one(role="alert").text == "The provider had an internal error."
    assert [b.text for b in shown.all("button")] == [
        "Retry", "Regenerate", "Regenerate with Contemplating", "Regenerate quickly"], "Retry first; no Copy: no text"


def test_a_streaming_answer_shows_what_arrived_and_a_stop_button(logged_in, conversation):
    add(conversation, "user", "tell me a story")
    answer = add(conversation, "assistant", "Once upon", status="streaming")

    shown = article(page_of(logged_in, conversation), answer)

    assert shown.attrs["data-status"] == "streaming"
    assert shown.one(id=f"msg-{answer.pk}-body").text.strip() == "Once upon"
    assert [b.text for b in shown.all("button")] == ["Stop"]


def test_the_sidebar_lists_conversations_newest_first(logged_in, user):
    first = Conversation.objects.create(user=user, title="First")
    second = Conversation.objects.create(user=user, title="Second")
    third = Conversation.objects.create(user=user, title="Third")
    first.save()  # touched last

    page = page_of(logged_in, second)

    assert sidebar_order(page) == [first.pk, third.pk, second.pk]
    assert page.one("a", aria_current="page").text == "Second"


def test_the_sidebar_shows_only_my_conversations(logged_in, conversation, theirs):
    page = page_of(logged_in, conversation)

    assert sidebar_order(page) == [conversation.pk]
    assert "Mallory" not in page.text


def test_without_a_model_the_page_says_none_is_configured(logged_in, conversation, settings):
    settings.MUSE_MODELS = settings.MUSE_MODEL = ""
    settings.MUSE_OFFLINE_MODEL = False

    page = page_of(logged_in, conversation)

    assert "No language model is configured." in page.one(id="no-model-notice").text


def test_with_a_model_there_is_no_notice(logged_in, conversation):
    page = page_of(logged_in, conversation)

    assert "No language model is configured" not in page.text


# --- what the model and the person wrote is shown safely --------------------


HOSTILE = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "[x](javascript:alert(1))",
    '<a href="javascript:alert(1)">x</a>',
    "[x](JaVaScRiPt:alert(1))",
    "![x](javascript:alert(1))",
    '[x](https://example.com "t" onclick=alert(1))',
    "<iframe src=https://evil.example></iframe>",
    '<div style="background:url(javascript:alert(1))">x</div>',
]


def assert_harmless(element: Element) -> None:
    """No element that runs or loads anything, no handler, and no
    javascript: anywhere but in Copy's data-copy, which holds the message's
    source as inert data for the clipboard (its text is the message's)."""
    for tag, attrs in markup_in(element):
        assert tag not in {"script", "img", "iframe", "style", "object", "embed"}, tag
        for name, value in attrs.items():
            assert not name.startswith("on"), (tag, name)
            if (tag, name) != ("button", "data-copy"):
                assert "javascript:" not in (value or "").lower(), (tag, name, value)


@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_markup_in_an_answer_is_escaped_or_stripped(logged_in, conversation, hostile):
    answer = add(conversation, "assistant", f"Look: {hostile}")

    shown = article(page_of(logged_in, conversation), answer)

    assert_harmless(shown)
    assert "Look:" in shown.text


def test_a_script_tag_in_an_answer_is_shown_as_text(logged_in, conversation):
    answer = add(conversation, "assistant", "<script>alert(1)</script>")

    shown = article(page_of(logged_in, conversation), answer)

    assert "<script>alert(1)</script>" in shown.text
    assert shown.all("script") == []


def test_an_answer_is_rendered_as_markdown_with_safe_links(logged_in, conversation):
    answer = add(conversation, "assistant", "**Bold** and [docs](https://example.com/docs)")

    shown = article(page_of(logged_in, conversation), answer)

    assert shown.one("strong").text == "Bold"
    link = shown.one("a")
    assert link.text == "docs"
    assert link.attrs["href"] == "https://example.com/docs"
    assert "noopener" in link.attrs["rel"] and "nofollow" in link.attrs["rel"]


def test_fenced_code_in_an_answer_is_highlighted(logged_in, conversation):
    answer = add(conversation, "assistant", '```python\ndef greet():\n    return "<hi>"\n```')

    shown = article(page_of(logged_in, conversation), answer)

    code = shown.one("pre").one("code")
    assert code.attrs["class"] == "language-python"
    highlighted = {span.text: span.attrs["class"] for span in code.all("span")}
    assert highlighted["def"].startswith("hl-")
    assert highlighted["greet"].startswith("hl-")
    assert 'def greet():\n    return "<hi>"' in code.text
    assert_harmless(shown)
    assert shown.all("hi") == []


def test_fenced_code_in_an_unknown_language_is_escaped(logged_in, conversation):
    answer = add(conversation, "assistant", "```nosuchlang\n<b>bold?</b>\n```")

    shown = article(page_of(logged_in, conversation), answer)

    assert "<b>bold?</b>" in shown.one("code").text
    assert shown.all("b") == []


def test_a_streaming_answer_is_shown_as_sanitized_markdown_with_a_tail_for_what_comes_next(logged_in, conversation):
    answer = add(conversation, "assistant", "**so far** <img src=x onerror=alert(1)>", status="streaming")

    shown = article(page_of(logged_in, conversation), answer)

    body = shown.one(id=f"msg-{answer.pk}-body")
    assert body.one("strong").text == "so far"
    assert body.text.strip() == "so far <img src=x onerror=alert(1)>", "the markup as text"
    assert body.one("span", id=f"msg-{answer.pk}-tail").children == []
    assert shown.all("img") == []


def test_html_in_a_persons_message_is_escaped(logged_in, conversation):
    text = "<b>hi</b> <script>alert(1)</script> **not markdown**"
    question = add(conversation, "user", text)

    shown = article(page_of(logged_in, conversation), question)

    assert text in shown.text
    assert shown.all("b") == [] and shown.all("strong") == []
    assert_harmless(shown)


def test_html_in_a_title_is_escaped(logged_in, user):
    conversation = Conversation.objects.create(user=user, title="<script>alert(1)</script>")

    page = page_of(logged_in, conversation)

    assert page.one("h1").text == "<script>alert(1)</script>"
    assert all(script.attrs.get("src") for script in page.all("script"))


# --- rename ---------------------------------------------------------------------


def test_it_renames_and_returns_to_the_conversation(logged_in, conversation):
    response = logged_in.post(f"/c/{conversation.pk}/rename/", {"title": "  Trip   to Rome "})

    assert response.status_code == 302
    assert response["Location"] == f"/c/{conversation.pk}/"
    conversation.refresh_from_db()
    assert conversation.title == "Trip to Rome"


def test_an_htmx_rename_returns_the_new_sidebar_item(logged_in, conversation):
    response = logged_in.post(
        f"/c/{conversation.pk}/rename/", {"title": "Trip to Rome"}, headers={"HX-Request": "true"}
    )

    assert response.status_code == 200
    item = parse(response).one("li", id=f"conv-{conversation.pk}")
    assert item.one("a", href=f"/c/{conversation.pk}/").text == "Trip to Rome"
    assert item.all(role="alert") == []
    conversation.refresh_from_db()
    assert conversation.title == "Trip to Rome"


def test_renaming_another_conversation_leaves_the_open_one_current_and_its_heading_alone(logged_in, user,
                                                                                       conversation):
    other = Conversation.objects.create(user=user, title="Old notes")

    response = logged_in.post(f"/c/{other.pk}/rename/", {"title": "Notes", "current": conversation.pk},
                              headers={"HX-Request": "true"})

    assert response.status_code == 200
    answer = parse(response)
    item = answer.one("li", id=f"conv-{other.pk}")
    assert "current" not in item.attrs["class"].split()
    assert item.one("a", href=f"/c/{other.pk}/").attrs.get("aria-current") is None
    assert answer.all("h1") == [], "the open page has no heading of the renamed conversation to swap"
    kept = [field.attrs["value"] for field in item.all("input", name="current")]
    assert kept == [str(conversation.pk)] * 3, "its rename, pin and delete keep the open one current too"


def test_renaming_the_open_conversation_also_renames_its_heading(logged_in, conversation):
    response = logged_in.post(f"/c/{conversation.pk}/rename/", {"title": "Trip", "current": conversation.pk},
                              headers={"HX-Request": "true"})

    answer = parse(response)
    item = answer.one("li", id=f"conv-{conversation.pk}")
    assert item.one("a", href=f"/c/{conversation.pk}/").attrs["aria-current"] == "page"
    assert answer.one("h1", id=f"conversation-title-{conversation.pk}").text == "Trip"


def test_renaming_another_conversation_without_htmx_returns_to_the_open_one(logged_in, user, conversation):
    other = Conversation.objects.create(user=user, title="Old notes")

    response = logged_in.post(f"/c/{other.pk}/rename/", {"title": "Notes", "current": conversation.pk})

    assert response["Location"] == f"/c/{conversation.pk}/"


@pytest.mark.parametrize("title", ["", "   \n\t "])
def test_an_empty_title_is_refused_with_a_clear_error(logged_in, conversation, title):
    response = logged_in.post(
        f"/c/{conversation.pk}/rename/", {"title": title}, headers={"HX-Request": "true"}
    )

    assert response.status_code == 400
    item = parse(response).one("li", id=f"conv-{conversation.pk}")
    assert item.one(role="alert").text == "A title cannot be empty."
    assert item.one("a", href=f"/c/{conversation.pk}/").text == "Picnic plans"
    conversation.refresh_from_db()
    assert conversation.title == "Picnic plans"


def test_an_empty_title_without_htmx_keeps_the_old_title_and_says_why(logged_in, conversation):
    response = logged_in.post(f"/c/{conversation.pk}/rename/", {"title": "  "}, follow=True)

    assert response.redirect_chain[-1][1] == 302
    assert "A title cannot be empty" in response.content.decode()
    conversation.refresh_from_db()
    assert conversation.title == "Picnic plans"


def test_a_missing_title_is_refused(logged_in, conversation):
    response = logged_in.post(f"/c/{conversation.pk}/rename/", {}, headers={"HX-Request": "true"})

    assert response.status_code == 400
    assert b"A title cannot be empty." in response.content


def test_a_long_title_is_cut_to_fit(logged_in, conversation):
    logged_in.post(f"/c/{conversation.pk}/rename/", {"title": "x" * 500})

    conversation.refresh_from_db()
    assert conversation.title == "x" * 200


def test_html_in_a_new_title_is_escaped(logged_in, conversation):
    response = logged_in.post(
        f"/c/{conversation.pk}/rename/", {"title": "<b>bold</b>"}, headers={"HX-Request": "true"}
    )

    item = parse(response).one("li", id=f"conv-{conversation.pk}")
    assert item.one("a", href=f"/c/{conversation.pk}/").text == "<b>bold</b>"
    assert item.all("b") == []


# --- delete ---------------------------------------------------------------------


def test_delete_removes_the_conversation_and_its_messages(logged_in, conversation):
    add(conversation, "user", "hello")
    add(conversation, "assistant", "hi")

    response = logged_in.post(f"/c/{conversation.pk}/delete/")

    assert response.status_code == 302
    assert response["Location"] == "/"
    assert not Conversation.objects.filter(pk=conversation.pk).exists()
    assert not Message.objects.filter(conversation_id=conversation.pk).exists()


def test_an_htmx_delete_tells_htmx_where_to_go(logged_in, conversation):
    response = logged_in.post(f"/c/{conversation.pk}/delete/", headers={"HX-Request": "true"})

    assert response.status_code == 204
    assert response["HX-Redirect"] == "/"
    assert not Conversation.objects.filter(pk=conversation.pk).exists()


def test_deleting_another_conversation_takes_its_item_out_and_leaves_the_page_where_it_is(logged_in, user,
                                                                                        conversation):
    other = Conversation.objects.create(user=user, title="Old notes")

    response = logged_in.post(f"/c/{other.pk}/delete/", {"current": conversation.pk}, headers={"HX-Request": "true"})

    assert response.status_code == 200
    assert response.content == b"", "the item is swapped for nothing"
    assert "HX-Redirect" not in response
    assert not Conversation.objects.filter(pk=other.pk).exists()


def test_deleting_another_conversation_without_htmx_returns_to_the_open_one(logged_in, user, conversation):
    other = Conversation.objects.create(user=user, title="Old notes")

    response = logged_in.post(f"/c/{other.pk}/delete/", {"current": conversation.pk})

    assert response["Location"] == f"/c/{conversation.pk}/"


def test_deleting_the_open_conversation_goes_home(logged_in, conversation):
    response = logged_in.post(f"/c/{conversation.pk}/delete/", {"current": conversation.pk},
                              headers={"HX-Request": "true"})

    assert response["HX-Redirect"] == "/"


def test_after_deleting_the_only_conversation_home_opens_a_fresh_one(logged_in, user, conversation):
    logged_in.post(f"/c/{conversation.pk}/delete/")

    response = logged_in.get("/")

    fresh = Conversation.objects.get(user=user)
    assert fresh.pk != conversation.pk
    assert response["Location"] == f"/c/{fresh.pk}/"


# --- someone else's ids, malformed ids, wrong methods -------------------------


def test_a_foreign_conversation_is_a_404(logged_in, theirs):
    response = logged_in.get(f"/c/{theirs.pk}/")

    assert response.status_code == 404
    assert b"my secret" not in response.content
    assert b"Mallory" not in response.content
    assert theirs.messages.count() == 1


@pytest.mark.parametrize("htmx", [False, True])
def test_a_foreign_conversation_cannot_be_renamed(logged_in, theirs, htmx):
    headers = {"HX-Request": "true"} if htmx else {}

    response = logged_in.post(f"/c/{theirs.pk}/rename/", {"title": "pwned"}, headers=headers)

    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.title == "Mallory's secrets"


@pytest.mark.parametrize("htmx", [False, True])
def test_a_foreign_conversation_cannot_be_deleted(logged_in, theirs, htmx):
    headers = {"HX-Request": "true"} if htmx else {}

    response = logged_in.post(f"/c/{theirs.pk}/delete/", headers=headers)

    assert response.status_code == 404
    assert Conversation.objects.filter(pk=theirs.pk).exists()
    assert theirs.messages.count() == 1


MALFORMED_IDS = ["abc", "1" + "0" * 40, "-1", "0", "999999999", "1_0", "١٢"]


@pytest.mark.parametrize("bad_id", MALFORMED_IDS)
def test_a_malformed_or_unknown_id_is_a_404_on_the_page(logged_in, conversation, bad_id):
    assert logged_in.get(f"/c/{bad_id}/").status_code == 404


@pytest.mark.parametrize("bad_id", MALFORMED_IDS)
def test_a_malformed_or_unknown_id_is_a_404_on_rename_and_delete(logged_in, conversation, bad_id):
    assert logged_in.post(f"/c/{bad_id}/rename/", {"title": "x"}).status_code == 404
    assert logged_in.post(f"/c/{bad_id}/delete/").status_code == 404
    conversation.refresh_from_db()
    assert conversation.title == "Picnic plans"


@pytest.mark.parametrize("action", ["rename", "delete"])
def test_rename_and_delete_must_be_posted(logged_in, conversation, action):
    response = logged_in.get(f"/c/{conversation.pk}/{action}/")

    assert response.status_code == 405
    conversation.refresh_from_db()
    assert conversation.title == "Picnic plans"


@pytest.mark.parametrize("action", ["rename", "delete"])
def test_a_post_without_the_csrf_token_is_refused(user, conversation, action):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)

    response = browser.post(f"/c/{conversation.pk}/{action}/", {"title": "forged"})

    assert response.status_code == 403
    conversation.refresh_from_db()
    assert conversation.title == "Picnic plans"


def test_each_message_has_a_hidden_heading_that_its_buttons_point_at(logged_in, conversation):
    add(conversation, "user", "hello")
    answer = add(conversation, "assistant", "hi there")

    page = logged_in.get(f"/c/{conversation.pk}/").content.decode()

    assert re.search(rf'<h2 class="visually-hidden" id="msg-{answer.pk}-said">Muse said, at \d\d:\d\d</h2>', page)
    assert re.search(r'<h2 class="visually-hidden" id="msg-\d+-said">You said, at', page)
    assert f'aria-label="Thumbs up" aria-describedby="msg-{answer.pk}-said"' in page


def test_analysts_get_a_link_to_insights_and_others_do_not(client, user, analyst, conversation):
    client.force_login(user)
    assert 'href="/insights/"' not in client.get(f"/c/{conversation.pk}/").content.decode()

    client.force_login(analyst)
    page = client.get("/", follow=True).content.decode()

    assert '<a class="insights-link" href="/insights/">Insights</a>' in page
