"""Regenerate, edit and show a version over the chat socket, with a real
worker: every tab is shown the branch now current; another person's ids
are refused; an answer still streaming is never disturbed."""

import pytest
from asgiref.sync import sync_to_async

from museapp.chat import branches
from museapp.chat.models import Conversation, Message
from tests.fakellm import Reply
from tests.sockets import Frames, answer_ended, answer_of, open_chat, send

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.asyncio,
    pytest.mark.usefixtures("celery_worker_process"),
]


async def shown_ids(conversation) -> list[int]:
    fresh = await Conversation.objects.aget(pk=conversation.pk)
    return await sync_to_async(branches.shown)(fresh)


async def asked(socket, frames, text: str, conversation) -> Message:
    await send(socket, message=text)
    await frames.contains(text)
    answer = await answer_of(conversation)
    await frames.until(answer_ended(answer.pk), timeout=30)
    return answer


async def test_regenerate_shows_the_new_version_in_every_tab_and_flipping_back_works(user, conversation, llm):
    llm.script("Name a tea", Reply(text="Sencha."), times=1)
    llm.script("Name a tea", Reply(text="Gyokuro."))
    first, second = await open_chat(user, conversation.pk), await open_chat(user, conversation.pk)
    first_frames, second_frames = Frames(first), Frames(second)
    old = await asked(first, first_frames, "Name a tea", conversation)

    await send(first, action="regenerate", message_id=old.pk)
    await first_frames.contains('<div id="messages" hx-swap-oob="innerHTML">')  # the new branch, shown
    new = await Message.objects.filter(conversation=conversation, author="assistant").exclude(pk=old.pk).aget()
    for frames in (first_frames, second_frames):
        await frames.until(answer_ended(new.pk), timeout=30)
    await second_frames.contains('<div id="messages" hx-swap-oob="innerHTML">')
    new = await Message.objects.aget(pk=new.pk)
    assert (new.content, new.parent_id) == ("Gyokuro.", old.parent_id)
    assert await shown_ids(conversation) == [old.parent_id, new.pk]

    mark = len(first_frames.text)
    await send(second, action="show_version", message_id=old.pk)
    text = await first_frames.until(lambda t: '<div id="messages" hx-swap-oob="innerHTML">' in t[mark:])
    swapped = text[mark:].rsplit('<div id="messages" hx-swap-oob="innerHTML">', 1)[1]
    assert "1 / 2" in swapped and f'<article id="msg-{old.pk}"' in swapped
    assert await shown_ids(conversation) == [old.parent_id, old.pk]
    await first.disconnect()
    await second.disconnect()


async def test_an_edit_answers_the_new_question_on_its_own_branch(user, conversation, llm):
    llm.script("green tea", Reply(text="Sencha."))
    llm.script("black tea", Reply(text="Assam."))
    socket = await open_chat(user, conversation.pk)
    frames = Frames(socket)
    old_answer = await asked(socket, frames, "Name a green tea", conversation)
    question = await Message.objects.aget(pk=old_answer.parent_id)

    await send(socket, action="edit", message_id=question.pk, message="Name a black tea")
    await frames.contains("Name a black tea")
    new_answer = await answer_of(conversation)
    await frames.until(answer_ended(new_answer.pk), timeout=30)

    edited = await Message.objects.aget(pk=(await Message.objects.aget(pk=new_answer.pk)).parent_id)
    assert (edited.content, edited.parent_id) == ("Name a black tea", None)
    assert (await Message.objects.aget(pk=new_answer.pk)).content == "Assam."
    [request] = llm.requests_matching("black tea")
    assert "green tea" not in str(request["messages"]), "the old branch is not read"
    await socket.disconnect()


async def test_while_an_answer_streams_regenerate_and_edit_are_refused_and_it_finishes_whole(user, conversation, llm):
    llm.script("quick one", Reply(text="Done."))
    llm.script("slow one", Reply(text="slow " * 60, token_delay=0.03))
    socket = await open_chat(user, conversation.pk)
    frames = Frames(socket)
    first = await asked(socket, frames, "quick one", conversation)
    await send(socket, message="slow one")
    await frames.contains("slow slow")
    streaming = await answer_of(conversation)

    for action in ({"action": "regenerate", "message_id": first.pk},
                   {"action": "edit", "message_id": first.parent_id, "message": "changed"}):
        mark = len(frames.text)
        await send(socket, **action)
        await frames.until(lambda t: "Muse is still answering" in t[mark:])

    await frames.until(answer_ended(streaming.pk), timeout=30)
    streaming = await Message.objects.aget(pk=streaming.pk)
    assert streaming.content == ("slow " * 60).strip() or streaming.content == "slow " * 60
    assert await Message.objects.filter(conversation=conversation).acount() == 4, "nothing added"
    await socket.disconnect()


@pytest.mark.parametrize("action", ["regenerate", "show_version", "edit"])
async def test_another_persons_message_is_refused(user, other_user, conversation, llm, action):
    theirs = await Conversation.objects.acreate(user=other_user, title="Theirs")
    their_message = await Message.objects.acreate(conversation=theirs, author="assistant", content="Secret.")
    socket = await open_chat(user, conversation.pk)
    frames = Frames(socket)

    await send(socket, action=action, message_id=their_message.pk, message="x")

    await frames.contains("That message is not in this conversation.")
    assert await Message.objects.filter(conversation=theirs).acount() == 1
    assert (await Conversation.objects.aget(pk=theirs.pk)).current_leaf_id is None
    await socket.disconnect()
