"""A file a person attached: kept in the files storage, its text read once
(on a worker) and stored beside it. It belongs to a conversation; sent, it
belongs to the messages that carry it (a question and its edited versions)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.files.storage import storages
from django.db import models, transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver


def files_storage():
    return storages["muse_files"]


def stored_name(attachment: "Attachment", _filename: str) -> str:
    """Where the bytes go: never a name the person chose (it could hold
    path parts); the person's id keeps one person's files together."""
    return f"attachments/{attachment.user_id}/{uuid.uuid4().hex}"


class AttachmentQuerySet(models.QuerySet):
    def unsent(self) -> "AttachmentQuerySet":
        return self.filter(messages__isnull=True)


class Attachment(models.Model):
    class Kind(models.TextChoices):
        TEXT = "text"
        PDF = "pdf"
        IMAGE = "image"

    class Status(models.TextChoices):
        READING = "reading"
        READY = "ready"
        FAILED = "failed"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="attachments")
    conversation = models.ForeignKey("chat.Conversation", on_delete=models.CASCADE, related_name="attachments")
    messages = models.ManyToManyField("chat.Message", related_name="attachments", blank=True)
    file = models.FileField(storage=files_storage, upload_to=stored_name, max_length=300)
    name = models.CharField(max_length=255, help_text="the file's own name, cleaned: shown, never a path")
    size = models.PositiveBigIntegerField(help_text="bytes")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    media_type = models.CharField(max_length=100)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.READING)
    progress = models.CharField(max_length=100, blank=True, help_text="how far the reading is, said")
    error = models.CharField(max_length=300, blank=True)
    text = models.TextField(blank=True, help_text="what was read of it, once, at upload")
    page_ends = models.JSONField(default=list, blank=True, help_text="where each PDF page's text ends in text")
    pages = models.PositiveIntegerField(null=True, blank=True, help_text="a PDF's pages in all")
    note = models.CharField(max_length=200, blank=True, help_text="what was left unread at upload, said")
    model_sees_images = models.BooleanField(null=True, blank=True,
                                            help_text="an image: whether the chat's model takes images")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = AttachmentQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["user", "conversation"])]

    def __str__(self) -> str:
        return self.name

    @property
    def is_image(self) -> bool:
        return self.kind == self.Kind.IMAGE

    @property
    def is_ready(self) -> bool:
        return self.status == self.Status.READY

    @property
    def is_reading(self) -> bool:
        return self.status == self.Status.READING


@receiver(post_delete, sender=Attachment)
def stored_file_delete(sender, instance: Attachment, **_kwargs) -> None:
    """A deleted attachment's bytes go with it, once the deletion commits
    (conversations, accounts and unsent files are deleted through the ORM,
    so every way of deleting one passes here). Connected here, with the
    model, so no app start-up has to import a signals module."""
    if instance.file.name:
        storage, name = instance.file.storage, instance.file.name
        transaction.on_commit(lambda: storage.delete(name))
