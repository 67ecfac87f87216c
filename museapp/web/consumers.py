"""The chat WebSocket: parses what the page sends, hands it to the turns,
and forwards the conversation's events to the page as htmx frames."""

from __future__ import annotations

import asyncio
import logging
import time

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.db import close_old_connections, connection
from django.http import Http404
from redis.exceptions import RedisError

from museapp.agents import selectors as agent_selectors
from museapp.agents.models import AgentRun
from museapp.chat import selectors
from museapp.chat import services as chat_services
from museapp.chat.access import get_conversation_for_user, get_message_for_user
from museapp.chat.models import Conversation, Message
from museapp.chat.services import InvalidMessage
from museapp.ops.outage import DATABASE_UNAVAILABLE, UNAVAILABLE_TEXT
from museapp.streams import events
from museapp.streams.names import Stream, conversation_group, person_group
from museapp.turns import services as turns
from museapp.web import frames, shared, sockets
from museapp.web.actions import (
    Edit, MergeAgain, Refusal, Regenerate, Retry, RetryAgent, Send, ShowVersion, Stop, parse_action,
)
from museapp.web.catchup import CatchUp
from museapp.web.outbox import Outbox

log = logging.getLogger(__name__)

CLOSE_UNAUTHENTICATED = 4401
CLOSE_NOT_FOUND = 4404
CLOSE_TOO_MANY = 4429
CLOSE_TRY_AGAIN = 1013  # "try again later": the page's socket reconnects
NOT_SENT_TEXT = ("Muse can't reach its database right now, so your message was not sent. "
                 "It is still here: send it again in a moment.")
LOGGED_OUT = "You are no longer logged in. Log in again to go on chatting."
TOO_MANY_TABS = "Too many open Muse tabs. Close one, then reload this page."


def _in_a_thread_of_its_own(function):
    """``function`` in a parallel thread, with its own database connection,
    given back (to the pool, with PostgreSQL) as it finishes, so an idle
    thread holds none and the pool cannot run dry."""
    def giving_its_connection_back(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        finally:
            close_old_connections()

    return sync_to_async(giving_its_connection_back, thread_sensitive=False)


def _turn_runner(function):
    """Saving a turn is the web process's biggest piece of database work.
    PostgreSQL takes many at once, so run them in parallel threads instead of
    queueing behind Channels' single database thread; SQLite takes one
    writer at a time, so keep its queue."""
    if connection.vendor == "sqlite":
        return database_sync_to_async(function)
    return _in_a_thread_of_its_own(function)


def _branch_shown(conversation_id: int) -> tuple[Conversation, list[Message], bool, str]:
    """The conversation as it is now, the page of its branch shown, and that
    page rendered, unless something on it is live: what a page shows of that
    depends on the page's own catch-up."""
    conversation = Conversation.objects.get(pk=conversation_id)
    messages, older = chat_services.conversation_messages(conversation=conversation)
    live = any(selectors.has_running(message) for message in messages)
    return conversation, messages, older, "" if live else frames.branch(conversation, messages, older)


def _agent_run(*, conversation: Conversation, run_id: int) -> AgentRun | None:
    """The agent an event names, or None once it is gone (its conversation deleted)."""
    try:
        return agent_selectors.agent_run_of(conversation=conversation, run_id=run_id)
    except Http404:
        return None


def _rendering(render, record):
    async def rendered() -> str:
        return render(record)
    return rendered


class UnknownPathConsumer(AsyncWebsocketConsumer):
    """Every other WebSocket path. Channels' URLRouter raises on a path no
    route matches (django/channels#2147): a 500 and a traceback per knock.
    Close it like an unknown conversation instead."""

    async def connect(self) -> None:
        await self.accept()
        await self.close(code=CLOSE_NOT_FOUND)


class ChatConsumer(AsyncWebsocketConsumer):
    conversation = None
    counted = False  # among the person's open sockets
    watch: asyncio.Task | None = None
    outbox: Outbox | None = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.catch_up = CatchUp()
        self.session_checked_at = time.monotonic()

    async def connect(self) -> None:
        # Accept first so the close code (4401/4404) reaches the page.
        await self.accept()
        self.outbox = Outbox(write=self._write, frame=self._tokens_frame, close=self._fell_behind,
                             limit=settings.MUSE_SOCKET_BACKLOG_BYTES)
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        try:
            self.conversation = await database_sync_to_async(get_conversation_for_user)(
                user, self.scope["url_route"]["kwargs"]["conversation_id"]
            )
        except Http404:
            await self.close(code=CLOSE_NOT_FOUND)
            return
        except DATABASE_UNAVAILABLE:
            # PostgreSQL is restarting: the page reconnects in a moment and catches up.
            log.warning("chat socket closed: the database is unreachable")
            await self.close(code=CLOSE_TRY_AGAIN)
            return
        self.group = conversation_group(self.conversation.pk)
        try:
            if not await self._open_among_the_persons_sockets():
                return
            await self.channel_layer.group_add(self.group, self.channel_name)  # first: see catchup.py
            answers = await database_sync_to_async(selectors.answers_to_catch_up)(conversation=self.conversation)
            if answers:
                await self.send(text_data="".join([await self._render(answer) for answer in answers]))
        except (RedisError, *DATABASE_UNAVAILABLE) as unavailable:
            # Redis or PostgreSQL is restarting: the page reconnects in a moment and catches up.
            log.warning("chat socket for conversation %s closed: %s unavailable", self.conversation.pk,
                        "Redis" if isinstance(unavailable, RedisError) else "the database")
            await self.close(code=CLOSE_TRY_AGAIN)

    async def send(self, text_data: str | None = None, bytes_data: bytes | None = None, close: bool = False) -> None:
        """Queue a frame for the page (museapp/web/outbox.py): a page that
        stops reading never holds up this socket's events."""
        self.outbox.put(text_data)

    async def _write(self, text_data: str) -> None:
        try:
            await super().send(text_data=text_data)
        # The page is gone: uvicorn's ClientDisconnected (an OSError), or a
        # RuntimeError once the socket was closed (by Muse, or by uvicorn for
        # a frame too big) before the outbox got to this frame. Its
        # disconnect comes next.
        except (OSError, RuntimeError):
            log.debug("chat socket for conversation %s: the page left before a frame", self.conversation)

    async def _fell_behind(self) -> None:
        await self.close(code=CLOSE_TRY_AGAIN)

    async def dispatch(self, message: dict) -> None:
        # Token frames are the hot path and touch no database: skip Channels'
        # per-event close_old_connections, a trip through the one DB thread.
        if message.get("type") == events.TOKENS:
            await self.chat_tokens(message)
            return
        try:
            await super().dispatch(message)
        except DATABASE_UNAVAILABLE:
            if not message.get("type", "").startswith("chat."):
                raise
            # PostgreSQL is restarting: an event rendered from it cannot be
            # shown now; the page reconnects in a moment and catches up.
            log.warning("chat socket closed: the database is unreachable for %s", message["type"])
            await self.close(code=CLOSE_TRY_AGAIN)

    async def disconnect(self, code: int) -> None:
        if self.watch is not None:
            self.watch.cancel()
        if self.outbox is not None:
            self.outbox.stop()
        if self.conversation is not None:
            await self.channel_layer.group_discard(self.group, self.channel_name)
        if self.counted:
            await self.channel_layer.group_discard(person_group(self.scope["user"].pk), self.channel_name)
            await sockets.closed(user_id=self.scope["user"].pk, channel=self.channel_name)

    # --- the person's sockets and session -------------------------------

    async def _open_among_the_persons_sockets(self) -> bool:
        user_id = self.scope["user"].pk
        if not await sockets.opened(user_id=user_id, channel=self.channel_name):
            await self.close(code=CLOSE_TOO_MANY, reason=TOO_MANY_TABS)
            return False
        self.counted = True
        await self.channel_layer.group_add(person_group(user_id), self.channel_name)
        self.watch = asyncio.create_task(self._keep_watch())
        return True

    async def _keep_watch(self) -> None:
        """While open: re-check the session, and stay counted."""
        while True:
            await asyncio.sleep(settings.MUSE_SESSION_RECHECK)
            if await self._session_ended():
                return
            await sockets.opened(user_id=self.scope["user"].pk, channel=self.channel_name)

    async def _session_ended(self) -> bool:
        """Close the socket (4401) if its session no longer logs its person in."""
        self.session_checked_at = time.monotonic()
        session_key = self.scope["session"].session_key
        valid = await database_sync_to_async(sockets.session_is_valid)(
            session_key=session_key, user_id=self.scope["user"].pk)
        if not valid:
            await self.close(code=CLOSE_UNAUTHENTICATED, reason=LOGGED_OUT)
        return not valid

    async def chat_session_changed(self, event: events.SessionChanged) -> None:
        if event["ended_session"] and event["ended_session"] == self.scope["session"].session_key:
            await self.close(code=CLOSE_UNAUTHENTICATED, reason=LOGGED_OUT)
            return
        await self._session_ended()

    # --- from the page --------------------------------------------------

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.conversation is None:
            return
        if time.monotonic() - self.session_checked_at > settings.MUSE_SESSION_RECHECK and await self._session_ended():
            return
        action = parse_action(text_data)
        if isinstance(action, Refusal):
            await self.send(text_data=frames.rejected(action.reason, action.client_id, None))
            return
        handler = {Send: self._send_message, Stop: self._stop, Retry: self._retry, RetryAgent: self._retry_agent,
                   MergeAgain: self._merge_again, ShowVersion: self._show_version, Regenerate: self._regenerate,
                   Edit: self._edit}[type(action)]
        try:
            await handler(action)
        except Http404:
            await self._error("That message is not in this conversation.")
        except InvalidMessage as refused:
            await self._error(refused.reason)
        except RedisError:
            log.warning("chat action %s failed: Redis unavailable", type(action).__name__, exc_info=True)
            await self._error("Muse lost its connection for a moment. Please try again.")
        except DATABASE_UNAVAILABLE:
            log.warning("chat action %s failed: the database is unreachable", type(action).__name__)
            await self._error(UNAVAILABLE_TEXT)

    async def _send_message(self, action: Send) -> None:
        try:
            # One trip to the database thread for saving and rendering: under
            # load every trip queues behind everyone else's.
            html = await _turn_runner(self._start_turn)(action)
        except InvalidMessage as refused:
            await self.send(text_data=frames.rejected(refused.reason, action.client_id, action.text))
            return
        except DATABASE_UNAVAILABLE:
            # Nothing was saved: the message goes back into the box, to send again.
            log.warning("a message was not sent: the database is unreachable")
            await self.send(text_data=frames.rejected(NOT_SENT_TEXT, action.client_id, action.text))
            return
        # The answer is already enqueued and the other pages told (the turn's
        # commit did both), so a page gone by now loses nothing.
        await self.send(text_data=html)

    # Each turn service counts its own limits and tells the conversation's
    # pages what changed once it commits: the socket only parses and forwards.

    async def _stop(self, action: Stop) -> None:
        await turns.answer_stop(message=await self._own_message(action.message_id))

    async def _retry(self, action: Retry) -> None:
        await database_sync_to_async(turns.answer_retry)(message=await self._own_message(action.message_id))

    async def _retry_agent(self, action: RetryAgent) -> None:
        message = await self._own_message(action.message_id)
        await database_sync_to_async(turns.agent_retry)(message=message, run_id=action.run_id)

    async def _merge_again(self, action: MergeAgain) -> None:
        await database_sync_to_async(turns.merge_again)(message=await self._own_message(action.message_id))

    async def _show_version(self, action: ShowVersion) -> None:
        await database_sync_to_async(turns.branch_show)(message=await self._own_message(action.message_id))

    async def _regenerate(self, action: Regenerate) -> None:
        message = await self._own_message(action.message_id)
        await _turn_runner(turns.answer_regenerate)(message=message, contemplate=action.contemplate)

    async def _edit(self, action: Edit) -> None:
        message = await self._own_message(action.message_id)
        await _turn_runner(turns.question_edit)(message=message, text=action.text)

    # --- from the conversation's group ----------------------------------

    async def chat_branch_changed(self, event: events.BranchChanged) -> None:
        """Show the branch now current: a whole page of it, loaded and
        rendered once per web process in a thread of its own (not on the
        event loop, nor in the database thread where everyone's turns are
        saved); one with something still running, by each page with its own
        catch-up."""
        load = _in_a_thread_of_its_own(_branch_shown)
        conversation, messages, older, html = await shared.once((event["event_id"], self.conversation.pk),
                                                                lambda: load(self.conversation.pk))
        if html:  # nothing on it is live
            for message in messages:
                self.catch_up.shown_finished(message)
        else:
            conversation, messages, older, _ = await load(self.conversation.pk)  # rows of its own to catch up
            for message in messages:
                if selectors.has_running(message):
                    await self.catch_up.message(message)
                else:
                    self.catch_up.shown_finished(message)
            html = await _in_a_thread_of_its_own(frames.branch)(conversation, messages, older)
        self.conversation = conversation
        await self.send(text_data=html)

    async def chat_tokens(self, event: events.Tokens) -> None:
        self.outbox.put(event)  # made a frame as it is sent: by then the page may have missed some

    async def _tokens_frame(self, event: events.Tokens) -> str:
        """The frame for ``event``; after a gap (frames dropped on the way:
        the channel layer, or this socket's outbox), the stream's element
        re-rendered with its whole text so far, unless this frame carries
        the whole text rendered anyway."""
        stream = Stream.parse(event["stream"])
        place = "old" if stream is None else self.catch_up.place(stream, event["seq"])
        if place == "old":
            return ""
        if place == "gap" and not event["html"]:
            return await self._resynced(stream)
        return frames.tokens(stream, event["text"], event["html"], event["count"], event["elapsed_ms"])

    async def _resynced(self, stream: Stream) -> str:
        if stream.is_agent:
            run = await database_sync_to_async(_agent_run)(conversation=self.conversation, run_id=stream.id)
            return frames.agent_panel(await self.catch_up.agent(run)) if run is not None else ""
        message = await database_sync_to_async(selectors.message_for_display)(
            conversation=self.conversation, message_id=stream.id)
        return await self._render(message) if message is not None else ""

    # A change is loaded and rendered once per web process for all its tabs
    # (museapp/web/shared.py). What is still live is loaded by each tab: its
    # text so far is that tab's own catch-up, written into the loaded rows.

    async def chat_agent_changed(self, event: events.AgentChanged) -> None:
        load = database_sync_to_async(_agent_run)
        run = await shared.once((event["event_id"], self.conversation.pk),
                                lambda: load(conversation=self.conversation, run_id=event["run_id"]))
        if run is not None and run.is_running:
            run = await load(conversation=self.conversation, run_id=event["run_id"])
        if run is None:
            return
        await self.catch_up.agent(run)
        html = (frames.agent_panel(run) if run.is_running
                else await shared.once((event["event_id"], "html"), _rendering(frames.agent_panel, run)))
        await self.send(text_data=html)

    async def chat_message_changed(self, event: events.MessageChanged) -> None:
        load = database_sync_to_async(selectors.message_for_display)
        message = await shared.once((event["event_id"], self.conversation.pk),
                                    lambda: load(conversation=self.conversation, message_id=event["message_id"]))
        if message is not None and selectors.has_running(message):
            message = await load(conversation=self.conversation, message_id=event["message_id"])
        if message is None:
            return
        if selectors.has_running(message):
            html = await self._render(message)
        else:
            await self.catch_up.message(message)
            html = await shared.once((event["event_id"], "html"), _rendering(frames.message, message))
        await self.send(text_data=html)

    async def chat_turn(self, event: events.Turn) -> None:
        if event["origin"] == self.channel_name:
            return  # the sender already has it
        messages = await database_sync_to_async(selectors.messages_by_ids)(
            conversation=self.conversation, ids=[event["user_message_id"], event["assistant_message_id"]])
        if messages:  # with what streamed already: its first frames may have come before this
            await self.send(text_data=frames.messages_appended([await self.catch_up.message(m) for m in messages]))

    # --- helpers --------------------------------------------------------

    async def _own_message(self, message_id: object) -> Message:
        return await database_sync_to_async(get_message_for_user)(
            self.scope["user"], message_id, conversation=self.conversation
        )

    async def _error(self, reason: str) -> None:
        await self.send(text_data=frames.composer_error(reason))

    async def _render(self, message: Message) -> str:
        return frames.message(await self.catch_up.message(message))

    def _start_turn(self, action: Send) -> str:
        turn = turns.turn_start(conversation=self.conversation, text=action.text, contemplate=action.contemplate,
                                strategy=action.strategy, judge=action.judge, origin=self.channel_name,
                                attachments=action.attachments, auto=action.auto, roster=action.roster)
        html = frames.turn_for_sender([turn.user_message, turn.answer], action.client_id,
                                      turn.user_message.conversation, title_changed=turn.title_changed)
        self.catch_up.shown_finished(turn.answer)
        return html
