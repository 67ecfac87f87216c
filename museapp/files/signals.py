"""A deleted attachment's bytes go with it, once the deletion commits
(conversations, accounts and unsent files are deleted through the ORM, so
every way of deleting one passes here)."""

from django.db import transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver

from museapp.files.models import Attachment


@receiver(post_delete, sender=Attachment)
def stored_file_delete(sender, instance: Attachment, **_kwargs) -> None:
    if instance.file.name:
        storage, name = instance.file.storage, instance.file.name
        transaction.on_commit(lambda: storage.delete(name))
