"""The turns' own Celery task: Contemplating: Auto's check after a quick
answer (chained after it by ``QuickAnswer.enqueue``). Thin, over the service."""

from celery import shared_task

from museapp.turns import services


@shared_task(name=services.AUTO_CHECK_TASK)
def auto_check(*, message_id: int) -> str:
    turn = services.answer_auto_check(message_id=message_id)
    return "contemplating" if turn is not None else "kept"
