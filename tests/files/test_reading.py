"""Reading an attached file's text, as a worker does: plain text, a PDF the
test makes, a damaged PDF, a PDF past the page cap, a reading past the time
limit, an image for a model with and without vision."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from museapp.files.models import Attachment
from museapp.files.reading import attachment_read
from museapp.files.services import attachment_upload
from tests.files.pdfs import PNG, pdf

pytestmark = pytest.mark.django_db


def uploaded(conversation, name: str, data: bytes) -> Attachment:
    return attachment_upload(conversation=conversation, upload=SimpleUploadedFile(name, data),
                             model="openai/fake-model")


def read(attachment: Attachment, model: str = "openai/fake-model") -> Attachment:
    attachment_read(attachment_id=attachment.pk, model=model)
    return Attachment.objects.get(pk=attachment.pk)


def test_a_text_file_is_read_whole(conversation):
    attachment = read(uploaded(conversation, "log.txt", b"line one\nline two\n"))

    assert (attachment.status, attachment.text, attachment.note) == ("ready", "line one\nline two\n", "")


def test_a_pdf_is_read_page_by_page(conversation):
    attachment = read(uploaded(conversation, "report.pdf", pdf("Revenue rose 12%", "Costs fell 3%")))

    assert attachment.status == "ready"
    assert attachment.text == "Revenue rose 12%\n\nCosts fell 3%\n\n"
    assert attachment.pages == 2
    assert attachment.page_ends == [len("Revenue rose 12%\n\n"), len(attachment.text)]


def test_a_damaged_pdf_fails_with_a_reason(conversation):
    attachment = read(uploaded(conversation, "broken.pdf", pdf("fine")[:40] + b"\x00garbage" * 50))

    assert attachment.status == "failed"
    assert attachment.error == "broken.pdf could not be read (it looks damaged)."


def test_a_pdf_of_only_pictures_says_there_is_no_text(conversation):
    attachment = read(uploaded(conversation, "scan.pdf", pdf("", "")))

    assert attachment.status == "failed"
    assert "has no text Muse can read" in attachment.error


@override_settings(MUSE_FILE_MAX_PAGES=50)
def test_a_pdf_past_the_page_cap_is_read_to_the_cap_and_says_so(conversation):
    attachment = read(uploaded(conversation, "tome.pdf", pdf(*[f"Page {n}" for n in range(1, 121)])))

    assert attachment.status == "ready"
    assert len(attachment.page_ends) == 50
    assert attachment.text.rstrip().endswith("Page 50")
    assert attachment.note == "only the first 50 of 120 pages were read"


@override_settings(MUSE_FILE_MAX_CHARS=1000)
def test_text_past_the_character_cap_is_kept_to_the_cap(conversation):
    attachment = read(uploaded(conversation, "big.log", b"x" * 5000))

    assert len(attachment.text) == 1000
    assert attachment.note == "only the first 1,000 characters were read"


@override_settings(MUSE_FILE_READ_SECONDS=0.05)
def test_a_reading_past_the_time_limit_is_stopped_and_fails(conversation):
    attachment = read(uploaded(conversation, "slow.pdf", pdf(*["words " * 50] * 300)))

    assert attachment.status == "failed"
    assert attachment.error == "slow.pdf took too long to read (Muse stops after 0.05 seconds)."


def test_an_image_notes_whether_the_chats_model_takes_images(conversation):
    blind = read(uploaded(conversation, "cat.png", PNG), model="openai/fake-model")
    seeing = read(uploaded(conversation, "dog.png", PNG), model="openai/fake-model-2")

    assert (blind.status, blind.model_sees_images) == ("ready", False)
    assert (seeing.status, seeing.model_sees_images) == ("ready", True)


def test_a_file_read_already_is_not_read_again(conversation):
    attachment = read(uploaded(conversation, "log.txt", b"once"))

    assert attachment_read(attachment_id=attachment.pk, model="openai/fake-model") == "gone"
