"""Open chat sockets follow their sessions: a log-out, a deactivated account
or a changed password tells that person's sockets to re-check at once
(museapp/web/consumers.py closes those whose session no longer holds)."""

from __future__ import annotations

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_out
from django.db.models.signals import post_save
from django.dispatch import receiver

from museapp.streams import events
from museapp.streams.names import person_group

log = logging.getLogger(__name__)


def tell_sockets(user_id: int, ended_session: str = "") -> None:
    try:
        async_to_sync(get_channel_layer().group_send)(person_group(user_id), events.session_changed(ended_session))
    except Exception:  # noqa: BLE001 - Redis away: the sockets' own periodic re-check closes them
        log.warning("could not tell %s's sockets that their session changed", user_id, exc_info=True)


@receiver(user_logged_out)
def logged_out(sender, request, user, **kwargs) -> None:
    if user is not None:
        tell_sockets(user.pk, request.session.session_key or "")


@receiver(post_save, sender=get_user_model())
def account_saved(sender, instance, created: bool, update_fields=None, **kwargs) -> None:
    # Every save but a log-in's (which updates last_login alone) may have
    # changed the password or deactivated the account.
    if not created and (update_fields is None or {"password", "is_active"} & set(update_fields)):
        tell_sockets(instance.pk)
