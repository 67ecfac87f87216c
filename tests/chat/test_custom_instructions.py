"""Custom instructions: two texts and a switch on the Settings page, read
into the system prompt of quick answers, of every agent and of the judge;
an answer written with them says so. And Contemplating's default for new
chats."""

import pytest
from asgiref.sync import sync_to_async

from museapp.chat.models import Conversation, Preferences
from museapp.chat.services import preferences_update
from tests.fakellm import Reply
from tests.markup import parse_html
from tests.sockets import answer_until_done

ABOUT = "I keep bees in Oslo."
STYLE = "Answer in exactly one sentence."


@pytest.fixture
def logged_in(client, user):
    client.force_login(user)
    return client


def system_prompts(llm, text: str) -> list[str]:
    return [request["messages"][0]["content"] for request in llm.requests_matching(text)]


@pytest.mark.django_db
def test_the_settings_page_asks_both_questions_and_keeps_the_answers(logged_in, user):
    logged_in.post("/settings/", {"about_me": ABOUT, "answer_style": STYLE, "instructions_on": "on"})

    page = parse_html(logged_in.get("/settings/").content.decode())

    assert page.one("label", **{"for": "id_about_me"}).text == "What should Muse know about you?"
    assert page.one("label", **{"for": "id_answer_style"}).text == "How should Muse answer?"
    assert page.one("textarea", name="about_me").text.strip() == ABOUT
    assert page.one("textarea", name="answer_style").attrs["maxlength"] == "1500"
    assert "checked" in page.one("input", name="instructions_on").attrs
    saved = Preferences.objects.get(user=user)
    assert (saved.about_me, saved.answer_style, saved.instructions_on) == (ABOUT, STYLE, True)


@pytest.mark.django_db
def test_instructions_over_the_limit_are_refused_with_the_text_kept(logged_in, user):
    too_long = "b" * 1501

    response = logged_in.post("/settings/", {"about_me": too_long, "answer_style": STYLE})

    assert response.status_code == 400
    page = parse_html(response.content.decode())
    assert "at most 1500 characters" in page.one("div", **{"class": "field-error"}).text
    assert page.one("textarea", name="about_me").text.strip() == too_long, "nothing typed is lost"
    assert not Preferences.objects.filter(user=user).exists()


@pytest.mark.django_db
def test_the_service_refuses_over_long_instructions_too(user):
    with pytest.raises(Exception, match="at most 1,500 characters"):
        preferences_update(user=user, answer_style="x" * 1501)


@pytest.mark.django_db
def test_switched_off_or_empty_instructions_add_nothing(user):
    preferences = preferences_update(user=user, about_me=ABOUT, answer_style="  ", instructions_on=True)
    assert preferences.instructions == f"About the person you are talking with, in their own words:\n{ABOUT}"

    preferences = preferences_update(user=user, instructions_on=False)
    assert preferences.instructions == ""


@pytest.mark.django_db
def test_a_new_chat_starts_with_contemplating_as_the_settings_say(logged_in, user):
    logged_in.post("/settings/", {"contemplate_new_chats": "on"})

    logged_in.post("/c/new/")

    assert Conversation.objects.get(user=user).contemplate is True


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
@pytest.mark.usefixtures("celery_worker_process")
async def test_a_quick_answer_reads_the_instructions_and_says_so(user, conversation, llm, client):
    await sync_to_async(preferences_update)(user=user, about_me=ABOUT, answer_style=STYLE, instructions_on=True)
    llm.script("What should I plant", Reply(text="Lavender."))

    done = await answer_until_done(user, conversation, message="What should I plant")

    [prompt] = system_prompts(llm, "What should I plant")
    assert ABOUT in prompt and STYLE in prompt
    assert done.with_instructions is True
    await sync_to_async(client.force_login)(user)
    page = parse_html((await sync_to_async(client.get)(f"/c/{conversation.pk}/")).content.decode())
    assert page.one("span", **{"class": "with-instructions"}).text == "your instructions"


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
@pytest.mark.usefixtures("celery_worker_process")
async def test_switched_off_instructions_never_reach_the_model(user, conversation, llm):
    await sync_to_async(preferences_update)(user=user, about_me=ABOUT, answer_style=STYLE, instructions_on=False)
    llm.script("What should I sow", Reply(text="Clover."))

    done = await answer_until_done(user, conversation, message="What should I sow")

    [prompt] = system_prompts(llm, "What should I sow")
    assert ABOUT not in prompt and STYLE not in prompt
    assert done.with_instructions is False


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
@pytest.mark.usefixtures("celery_worker_process")
async def test_every_agent_and_the_judge_read_the_instructions(user, conversation, llm):
    await sync_to_async(preferences_update)(user=user, about_me=ABOUT, answer_style=STYLE, instructions_on=True)
    llm.script("Which hive is best", Reply(text="A Langstroth hive, because it is standard."))
    llm.script("Which hive is best", Reply(text="Relied on: A\n\nA Langstroth hive."), system="judge")

    done = await answer_until_done(user, conversation, message="Which hive is best", contemplate="on",
                                   strategy="synthesize")

    prompts = system_prompts(llm, "Which hive is best")
    judge = [p for p in prompts if "judge" in p]
    assert len(prompts) == 5 and len(judge) == 1, "four agents and the judge"
    assert all(ABOUT in p and STYLE in p for p in prompts)
    assert done.status == "done" and done.with_instructions is True
