"""The chat WebSocket: validates what the page sends, hands it to services,
and forwards the conversation's events to the page as htmx frames."""

from __future__ import annotations

import json
import logging
import re

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.db import close_old_connections, connection
from django.http import Http404
from redis.exceptions import RedisError

from museapp.chat import events, frames, leases, limits, livetext, services, stopping
from museapp.chat.access import get_conversation_for_user, get_message_for_user
from museapp.chat.models import Message

log = logging.getLogger(__name__)

CLOSE_UNAUTHENTICATED = 4401
CLOSE_NOT_FOUND = 4404
CLOSE_TRY_AGAIN = 1013  # "try again later": the page's socket reconnects
MAX_FRAME_CHARS = 100_000
CLIENT_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def _turn_runner(function):
    """Saving a turn is the web process's biggest piece of database work.
    PostgreSQL takes many at once, so run them in parallel threads (each with
    its own pooled connection) instead of queueing behind Channels' single
    database thread; SQLite takes one writer at a time, so keep its queue."""
    if connection.vendor == "sqlite":
        return database_sync_to_async(function)
    return sync_to_async(function, thread_sensitive=False)


class UnknownPathConsumer(AsyncWebsocketConsumer):
    """Every other WebSocket path. Channels' URLRouter raises on a path no
    route matches (django/channels#2147): a 500 and a traceback per knock.
    Close it like an unknown conversation instead."""

    async def connect(self) -> None:
        await self.accept()
        await self.close(code=CLOSE_NOT_FOUND)


class ChatConsumer(AsyncWebsocketConsumer):
    conversation = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # stream -> sequence number of the last frame this page has
        self.seen_seq: dict[str, int] = {}

    async def connect(self) -> None:
        # Accept first so the close code (4401/4404) reaches the page.
        await self.accept()
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
        self.group = events.conversation_group(self.conversation.pk)
        # Subscribe first, then render the current state, then drop frames
        # that state already covers: a page that reconnects mid-answer
        # catches up with nothing lost and nothing doubled.
        try:
            await self.channel_layer.group_add(self.group, self.channel_name)
            recent = await database_sync_to_async(self._recent_answers)()
            if recent:
                await self.send(text_data="".join([await self._render_live(m) for m in recent]))
        except RedisError:
            # Redis is restarting: the page reconnects in a moment and catches up.
            log.warning("chat socket for conversation %s closed: Redis unavailable", self.conversation.pk)
            await self.close(code=CLOSE_TRY_AGAIN)

    async def dispatch(self, message: dict) -> None:
        # Token frames are the hot path and touch no database: skip Channels'
        # per-event close_old_connections, a trip through the one DB thread.
        if message.get("type") == events.TOKENS:
            await self.chat_tokens(message)
            return
        await super().dispatch(message)

    async def disconnect(self, code: int) -> None:
        if self.conversation is not None:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    # --- from the page --------------------------------------------------

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.conversation is None:
            return
        if text_data is None:
            await self._error("That message could not be read (Muse reads text frames only).")
            return
        if len(text_data) > MAX_FRAME_CHARS + 1000:
            await self._error("That message is too large to send.")
            return
        try:
            payload = json.loads(text_data)
        except ValueError:
            await self._error("That message could not be read (malformed JSON).")
            return
        except RecursionError:  # a few kB of "[[[[…" is deeper than Python's stack
            await self._error("That message could not be read (nested too deeply).")
            return
        if not isinstance(payload, dict):
            await self._error("That message could not be read (expected a JSON object).")
            return
        action = payload.get("action", "send")
        handler = {
            "send": self._send_message,
            "stop": self._stop,
            "retry": self._retry,
        }.get(action if isinstance(action, str) else "")
        if handler is None:
            await self._error("Unknown action.")
            return
        try:
            await handler(payload)
        except Http404:
            await self._error("That message is not in this conversation.")
        except RedisError:
            log.warning("chat action %r failed: Redis unavailable", action, exc_info=True)
            await self._error("Muse lost its connection for a moment. Please try again.")

    async def _send_message(self, payload: dict) -> None:
        client_id = payload.get("client_id")
        client_id = client_id if isinstance(client_id, str) and CLIENT_ID.match(client_id) else ""
        text = payload.get("message")
        strategy = payload.get("strategy")
        contemplate = payload.get("contemplate") in ("on", "true", True)
        try:
            services.message_clean_text(text)  # a message refused anyway counts against no limit
            await limits.turn_count(user_id=self.scope["user"].pk, contemplate=contemplate)
            # One trip to the database thread for saving and rendering: under
            # load every trip queues behind everyone else's.
            turn, html = await _turn_runner(self._start_turn)(
                text=text,
                contemplate=contemplate,
                strategy=strategy if isinstance(strategy, str) else "",
                client_id=client_id,
            )
        except (limits.RateLimited, services.InvalidMessage) as refused:
            await self.send(text_data=frames.rejected(refused.reason, client_id, text))
            return
        await self.send(text_data=html)
        # Other tabs learn of the turn before the worker can publish a token.
        await self.channel_layer.group_send(
            self.group,
            events.turn(turn.user_message.pk, turn.assistant_message.pk, self.channel_name),
        )
        await sync_to_async(services.turn_enqueue, thread_sensitive=False)(turn)

    async def _stop(self, payload: dict) -> None:
        message = await self._own_message(payload.get("message_id"))
        if message.status != Message.Status.STREAMING:
            await self._error("That answer has already finished.")
            return
        # The answer and, when contemplating, every agent still drafting.
        agents = await database_sync_to_async(self._thinking_agent_streams)(message)
        await stopping.request_stop(events.message_stream(message.pk), *agents)

    async def _retry(self, payload: dict) -> None:
        message = await self._own_message(payload.get("message_id"))
        # A retry runs the answer again (a contemplated one with all its agents).
        contemplated = await database_sync_to_async(lambda: message.contemplation_or_none is not None)()
        try:
            await limits.turn_count(user_id=self.scope["user"].pk, contemplate=contemplated)
            turn = await database_sync_to_async(services.reply_retry)(message=message)
        except (limits.RateLimited, services.InvalidMessage) as refused:
            await self._error(refused.reason)
            return
        stream = events.message_stream(message.pk)
        await stopping.clear(stream)  # the last attempt's Stop
        await leases.reserve(stream)  # replaces the last attempt's tombstone
        await self.channel_layer.group_send(
            self.group, events.message_changed(turn.assistant_message.pk)
        )
        await sync_to_async(services.turn_enqueue, thread_sensitive=False)(turn)

    # --- from the conversation's group ----------------------------------

    async def chat_tokens(self, event: dict) -> None:
        stream, seq = event["stream"], event["seq"]
        if seq <= self.seen_seq.get(stream, 0):
            return  # already in the snapshot this page was given
        self.seen_seq[stream] = seq
        await self.send(text_data=frames.tokens(stream, event["text"], event.get("count"), event.get("elapsed_ms")))

    async def chat_agent_changed(self, event: dict) -> None:
        run = await database_sync_to_async(self._agent_run)(event["run_id"])
        if run is not None:
            stream = events.agent_stream(run.pk)
            if run.is_thinking:
                run.text, self.seen_seq[stream] = await livetext.snapshot(stream)
            else:
                self.seen_seq.pop(stream, None)
            await self.send(text_data=frames.agent_panel(run))

    async def chat_message_changed(self, event: dict) -> None:
        message = await database_sync_to_async(self._message)(event["message_id"])
        if message is not None:
            await self.send(text_data=await self._render_live(message))

    async def chat_turn(self, event: dict) -> None:
        if event.get("origin") == self.channel_name:
            return  # the sender already has it
        html = await database_sync_to_async(self._render_turn)(event)
        if html:
            await self.send(text_data=html)

    # --- helpers --------------------------------------------------------

    async def _own_message(self, message_id) -> Message:
        return await database_sync_to_async(get_message_for_user)(
            self.scope["user"], message_id, conversation=self.conversation
        )

    async def _error(self, reason: str) -> None:
        await self.send(text_data=frames.composer_error(reason))

    async def _render_live(self, message: Message) -> str:
        """A message as it stands now; for a streaming answer, with the text
        streamed so far (and this page's sequence number set to match)."""
        stream = events.message_stream(message.pk)
        if message.is_streaming:
            message.content, self.seen_seq[stream] = await livetext.snapshot(stream)
        else:
            self.seen_seq.pop(stream, None)
        contemplation = message.contemplation_or_none
        for run in contemplation.agent_runs if contemplation else []:
            agent = events.agent_stream(run.pk)
            if run.is_thinking:
                run.text, self.seen_seq[agent] = await livetext.snapshot(agent)
            else:
                self.seen_seq.pop(agent, None)
        return frames.message(message)

    def _messages(self):
        return Message.objects.filter(conversation=self.conversation).for_display()

    def _message(self, message_id: int) -> Message | None:
        return self._messages().filter(pk=message_id).first()

    def _start_turn(self, *, text, contemplate: bool, strategy: str, client_id: str):
        try:
            turn = services.turn_start(
                conversation=self.conversation, text=text, contemplate=contemplate, strategy=strategy
            )
            conversation = turn.user_message.conversation if turn.title_changed else None
            html = frames.turn_for_sender([turn.user_message, turn.assistant_message], client_id, conversation)
            return turn, html
        finally:
            if connection.vendor != "sqlite":
                close_old_connections()  # back to the pool: this thread is not Channels' DB thread

    def _render_turn(self, event: dict) -> str:
        ids = [i for i in (event["user_message_id"], event["assistant_message_id"]) if i]
        msgs = list(self._messages().filter(pk__in=ids))
        return frames.messages_appended(msgs) if msgs else ""

    def _agent_run(self, run_id: int):
        from museapp.agents.models import AgentRun

        return AgentRun.objects.filter(
            pk=run_id, contemplation__message__conversation=self.conversation
        ).first()

    def _thinking_agent_streams(self, message: Message) -> list[str]:
        from museapp.agents.models import AgentRun

        runs = AgentRun.objects.filter(contemplation__message=message, status=AgentRun.Status.THINKING)
        return [events.agent_stream(pk) for pk in runs.values_list("pk", flat=True)]

    def _recent_answers(self) -> list[Message]:
        """Answers still streaming, and the latest answer (it may have ended
        while this page was disconnected)."""
        answers = self._messages().filter(author=Message.Author.ASSISTANT)
        streaming = list(answers.filter(status=Message.Status.STREAMING))
        latest = answers.order_by("-id").first()
        if latest is not None and latest not in streaming:
            streaming.append(latest)
        return streaming
