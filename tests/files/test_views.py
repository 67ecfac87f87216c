"""Attaching through the composer's URLs: a chip comes back, limits refuse
with a reason and keep nothing, a file downloads only as an attachment, and
deleting the conversation deletes the stored bytes."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings

from museapp.chat.models import Message
from museapp.files.models import Attachment
from tests.files.pdfs import pdf
from tests.markup import parse_html

pytestmark = pytest.mark.django_db


@pytest.fixture
def logged_in(client, user):
    client.force_login(user)
    return client


def upload(client, conversation, name: str, data: bytes):
    return client.post(f"/c/{conversation.pk}/files/", {"file": SimpleUploadedFile(name, data)})


def test_an_upload_comes_back_as_a_chip_with_its_name_size_and_remove_button(logged_in, conversation):
    response = upload(logged_in, conversation, "report.pdf", pdf("Revenue rose"))

    assert response.status_code == 201
    chip = parse_html(response.content.decode())
    attachment = Attachment.objects.get()
    assert (attachment.name, attachment.kind, attachment.status) == ("report.pdf", "pdf", "reading")
    assert chip.one("a", **{"class": "chip-name"}).text == "report.pdf"
    assert chip.one("button", **{"aria-label": "Remove report.pdf"}) is not None
    assert chip.one("input", name="attachments").attrs["value"] == str(attachment.pk)


def test_the_page_shows_files_attached_but_not_sent_after_a_reload(logged_in, conversation):
    upload(logged_in, conversation, "notes.txt", b"cardamom")

    page = parse_html(logged_in.get(f"/c/{conversation.pk}/").content.decode())

    assert page.one("ul", id="attachment-tray").one("a", **{"class": "chip-name"}).text == "notes.txt"
    assert page.one("button", **{"aria-label": "Attach files"}) is not None


@override_settings(MUSE_FILE_MAX_BYTES=100)
def test_a_file_over_the_size_limit_is_refused_and_nothing_is_kept(logged_in, conversation):
    response = upload(logged_in, conversation, "big.txt", b"x" * 101)

    assert response.status_code == 400
    assert response.content.decode() == "big.txt is 101 bytes: a file can be at most 100 bytes."
    assert not Attachment.objects.exists()


def test_an_empty_file_and_a_zip_are_refused_with_reasons(logged_in, conversation):
    assert upload(logged_in, conversation, "empty.txt", b"").content.decode() == (
        "empty.txt is empty: there is nothing in it to read.")
    assert "looks like application/zip" in upload(logged_in, conversation, "a.txt", b"PK\x03\x04" + b"\0" * 64
                                                  ).content.decode()
    assert not Attachment.objects.exists()


@override_settings(MUSE_FILES_PER_MESSAGE=2)
def test_a_message_carries_at_most_so_many_files(logged_in, conversation):
    for name in ("a.txt", "b.txt"):
        assert upload(logged_in, conversation, name, b"x").status_code == 201

    response = upload(logged_in, conversation, "c.txt", b"x")

    assert (response.status_code, response.content.decode()) == (400, "A message can carry at most 2 files.")


@override_settings(MUSE_FILE_QUOTA_BYTES=10)
def test_a_person_past_their_quota_is_refused(logged_in, conversation):
    assert upload(logged_in, conversation, "a.txt", b"x" * 8).status_code == 201

    response = upload(logged_in, conversation, "b.txt", b"x" * 8)

    assert response.status_code == 400 and "does not fit" in response.content.decode()


def test_a_download_is_always_an_attachment_never_sniffed(logged_in, conversation):
    upload(logged_in, conversation, "<b>page</b>.html", b"<script>alert(1)</script>")
    attachment = Attachment.objects.get()

    response = logged_in.get(f"/files/{attachment.pk}/")

    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Type"] == "application/octet-stream"
    assert b"".join(response.streaming_content) == b"<script>alert(1)</script>"


def test_removing_an_unsent_file_deletes_it_and_its_bytes(logged_in, conversation, django_capture_on_commit_callbacks):
    upload(logged_in, conversation, "notes.txt", b"cardamom")
    attachment = Attachment.objects.get()
    storage, name = attachment.file.storage, attachment.file.name

    with django_capture_on_commit_callbacks(execute=True):
        response = logged_in.post(f"/c/{conversation.pk}/files/{attachment.pk}/remove/")

    assert response.status_code == 200
    assert not Attachment.objects.exists() and not storage.exists(name)


def test_a_sent_file_cannot_be_removed(logged_in, conversation):
    upload(logged_in, conversation, "notes.txt", b"cardamom")
    attachment = Attachment.objects.get()
    attachment.messages.add(Message.objects.create(conversation=conversation, author="user", content="see"))

    response = logged_in.post(f"/c/{conversation.pk}/files/{attachment.pk}/remove/")

    assert response.status_code == 400 and Attachment.objects.exists()


def test_deleting_the_conversation_deletes_its_files(logged_in, conversation, django_capture_on_commit_callbacks):
    upload(logged_in, conversation, "notes.txt", b"cardamom")
    attachment = Attachment.objects.get()
    storage, name = attachment.file.storage, attachment.file.name

    with django_capture_on_commit_callbacks(execute=True):
        logged_in.post(f"/c/{conversation.pk}/delete/")

    assert not Attachment.objects.exists() and not storage.exists(name)


def test_a_sent_message_shows_its_files_and_so_do_its_exports(logged_in, conversation):
    upload(logged_in, conversation, "notes.txt", b"cardamom")
    attachment = Attachment.objects.get()
    question = Message.objects.create(conversation=conversation, author="user", content="What is in it?")
    attachment.messages.add(question)

    page = parse_html(logged_in.get(f"/c/{conversation.pk}/").content.decode())
    markdown = logged_in.get(f"/c/{conversation.pk}/export.md").content.decode()
    data = logged_in.get(f"/c/{conversation.pk}/export.json").json()

    sent = page.one("article", id=f"msg-{question.pk}").one("ul", **{"aria-label": "Attached files"})
    assert sent.one("a").attrs["href"] == f"/files/{attachment.pk}/"
    assert page.all("input", name="attachments") == []  # no longer in the composer
    assert "Attached: notes.txt (8 bytes)" in markdown
    assert data["conversation"]["messages"][0]["files"] == [
        {"name": "notes.txt", "size": 8, "kind": "text", "media_type": "text/plain", "pages": None}]


def test_a_shared_link_names_the_files_but_never_serves_them(logged_in, conversation):
    upload(logged_in, conversation, "notes.txt", b"cardamom")
    attachment = Attachment.objects.get()
    attachment.messages.add(Message.objects.create(conversation=conversation, author="user", content="Look"))
    logged_in.post(f"/c/{conversation.pk}/share/")
    token = conversation.shared_link.token

    page = parse_html(Client().get(f"/s/{token}/").content.decode())

    [chip] = page.one("ul", **{"aria-label": "Attached files"}).all("li")
    assert chip.text.split() == ["notes.txt", "8", "bytes"]
    assert page.all("a", href=f"/files/{attachment.pk}/") == []
    assert Client().get(f"/files/{attachment.pk}/")["Location"] == f"/accounts/login/?next=/files/{attachment.pk}/"
