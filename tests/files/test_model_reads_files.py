"""What the model reads of attached files, seen in the fake model's request
log: the file's text with its name in a quick answer, in every agent's and
in the judge's request; an image part for a model that takes images, and a
note on the answer for one that does not; files kept by an edit and read
again by a later turn."""

import json

import pytest
from asgiref.sync import sync_to_async
from django.core.files.uploadedfile import SimpleUploadedFile

from museapp.chat.models import Conversation
from museapp.files.models import Attachment
from museapp.files.services import attachment_upload
from tests.conftest import wait_until
from tests.fakellm import Reply
from tests.files.pdfs import PNG
from tests.sockets import Frames, answer_until_done, open_chat, send

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio,
              pytest.mark.usefixtures("celery_worker_process")]

RECIPE = b"The secret ingredient is cardamom.\n"


@sync_to_async
def attached(conversation, name: str, data: bytes) -> int:
    """Upload a file; its upload's commit has the worker read it, as the
    page's does: wait for that reading to end (the row's status)."""
    attachment = attachment_upload(conversation=conversation, upload=SimpleUploadedFile(name, data),
                                   model=conversation.model or "openai/fake-model")
    wait_until(lambda: Attachment.objects.get(pk=attachment.pk).status != Attachment.Status.READING,
               timeout=60, message=f"the worker to read {name}")
    return attachment.pk


def sent(llm, question: str) -> list[str]:
    """What each request whose last message holds ``question`` said to the model, as JSON text."""
    return [json.dumps(request["messages"]) for request in llm.requests_matching(question)]


async def test_a_quick_answer_reads_the_file_with_its_name(user, conversation, llm):
    file_id = await attached(conversation, "recipe.txt", RECIPE)

    done = await answer_until_done(user, conversation, message="What is the secret ingredient",
                                   attachments=[str(file_id)])

    [request] = sent(llm, "What is the secret ingredient")
    assert '<file name=\\"recipe.txt\\">\\nThe secret ingredient is cardamom.' in request
    assert done.status == "done" and done.context_note == ""


async def test_every_agent_and_the_judge_read_the_file(user, conversation, llm):
    file_id = await attached(conversation, "recipe.txt", RECIPE)
    llm.script("Which spice", Reply(text="Cardamom, says the file."))
    llm.script("Which spice", Reply(text="Relied on: A\n\nCardamom."), system="judge")

    done = await answer_until_done(user, conversation, message="Which spice", contemplate="on",
                                   strategy="synthesize", attachments=[str(file_id)])

    requests = sent(llm, "Which spice")
    assert len(requests) == 5, "four agents and the judge"
    assert all("The secret ingredient is cardamom." in r for r in requests)
    assert done.status == "done"


async def test_a_model_that_takes_images_gets_the_image(user, llm):
    conversation = await Conversation.objects.acreate(user=user, model="openai/fake-model-2")
    file_id = await attached(conversation, "cat.png", PNG)

    await answer_until_done(user, conversation, message="What animal is this", attachments=[str(file_id)])

    [request] = llm.requests_matching("What animal is this")
    [image] = [p for p in request["messages"][-1]["content"] if p["type"] == "image_url"]
    assert image["image_url"]["url"].startswith("data:image/png;base64,iVBORw0KGgo")


async def test_a_model_without_vision_answers_without_the_image_and_says_so(user, conversation, llm):
    file_id = await attached(conversation, "cat.png", PNG)

    done = await answer_until_done(user, conversation, message="Describe the picture", attachments=[str(file_id)])

    [request] = sent(llm, "Describe the picture")
    assert "image_url" not in request
    assert done.context_note == "this model can't see images, so it was not shown cat.png"


async def test_a_later_turn_still_reads_an_earlier_file(user, conversation, llm):
    file_id = await attached(conversation, "recipe.txt", RECIPE)
    await answer_until_done(user, conversation, message="Read this", attachments=[str(file_id)])

    await answer_until_done(user, conversation, message="And again, which ingredient")

    [request] = sent(llm, "And again, which ingredient")
    assert "The secret ingredient is cardamom." in request


async def test_a_file_not_read_yet_cannot_be_sent(user, conversation, llm):
    attachment = await sync_to_async(attachment_upload)(
        conversation=conversation, upload=SimpleUploadedFile("recipe.txt", RECIPE), model="openai/fake-model")
    await Attachment.objects.filter(pk=attachment.pk).aupdate(status="failed", error="recipe.txt could not be read.")

    socket = await open_chat(user, conversation.pk)
    frames = Frames(socket)
    await send(socket, message="Will this go", attachments=[str(attachment.pk)])
    await frames.contains("recipe.txt could not be read. Remove it to send.")
    await socket.disconnect()

    assert not llm.requests_matching("Will this go")
    assert not await conversation.messages.aexists()


async def test_a_log_of_a_million_lines_is_cut_to_the_window_and_the_answer_says_so(user, conversation, llm):
    log = "".join(f"line {n}: ok\n" for n in range(1, 1_000_001)).encode()
    file_id = await attached(conversation, "big.log", log)

    done = await answer_until_done(user, conversation, message="Anything wrong in the log", attachments=[str(file_id)])

    [request] = sent(llm, "Anything wrong in the log")
    assert "line 1: ok" in request and "line 1000000: ok" not in request
    kept = request.count(": ok")
    assert 100 < kept < 1_000_000
    assert done.status == "done"
    assert done.context_note.startswith(f"read the first {kept:,} lines of big.log")
