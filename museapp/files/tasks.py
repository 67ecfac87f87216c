from celery import shared_task

from museapp.files.reading import attachment_read


@shared_task(name="muse.read_attachment")
def read_attachment(*, attachment_id: int, model: str) -> str:
    """Read an attached file's text (museapp/files/reading.py)."""
    return attachment_read(attachment_id=attachment_id, model=model)
