"""What a page may send over the chat socket, parsed (no I/O)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from django.conf import settings

from museapp.chat.services import message_too_long

# The server's byte limit (uvicorn's --ws-max-size) at 4 bytes a character,
# less the JSON around the message: the longest text a page's frame always
# gets through with. A frame over the byte limit never reaches Muse; one
# under it is read, so a message over the message limit is refused by the
# turn like any other (its pending bubble dropped, its text given back).
MAX_FRAME_CHARS = settings.MUSE_WS_MAX_BYTES // 4 - 1000
CLIENT_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
CLIENT_ID_FIELD = re.compile(r'"client_id"\s*:\s*"([A-Za-z0-9_-]{1,64})"')


@dataclass(frozen=True)
class Send:
    text: object  # checked by the turn (museapp/chat/services.message_clean_text)
    contemplate: bool
    strategy: str
    client_id: str  # the page's pending bubbles, to replace
    judge: str | None = None  # None: keep the conversation's; "": the default
    attachments: tuple = ()  # ids of the files it carries, checked by the turn
    auto: bool | None = None  # Contemplating: Auto; None: as it was
    roster: str | None = None  # each agent's model (2xA+2xB), checked by the turn; None: as it was


@dataclass(frozen=True)
class Stop:
    message_id: object  # checked by the ownership helper


@dataclass(frozen=True)
class Retry:
    message_id: object


@dataclass(frozen=True)
class RetryAgent:
    message_id: object
    run_id: object  # checked against the answer's own agents


@dataclass(frozen=True)
class MergeAgain:
    message_id: object


@dataclass(frozen=True)
class ShowVersion:
    message_id: object  # the version to show


@dataclass(frozen=True)
class Regenerate:
    message_id: object
    contemplate: bool | None  # None: the way the answer ran


@dataclass(frozen=True)
class Edit:
    message_id: object
    text: object  # checked by the turn, as a sent message is


@dataclass(frozen=True)
class Refusal:
    reason: str
    client_id: str = ""  # the page's pending bubbles, to drop


Action = Send | Stop | Retry | RetryAgent | MergeAgain | ShowVersion | Regenerate | Edit
REGENERATE_MODES = {"contemplate": True, "quick": False}


def parse_action(text: str | None) -> Action | Refusal:
    """A frame from the page as an action, or why it is refused."""
    if text is None:
        return Refusal("That message could not be read (Muse reads text frames only).")
    if len(text) > settings.MUSE_WS_MAX_BYTES:
        # Only behind a server without the byte limit: refused unread, as
        # the turn refuses a long message.
        found = CLIENT_ID_FIELD.search(text)
        return Refusal(message_too_long(settings.MUSE_MAX_MESSAGE_CHARS, at_least=True),
                       client_id=found.group(1) if found else "")
    try:
        payload = json.loads(text)
    except ValueError:
        return Refusal("That message could not be read (malformed JSON).")
    except RecursionError:  # a few kB of "[[[[…" is deeper than Python's stack
        return Refusal("That message could not be read (nested too deeply).")
    if not isinstance(payload, dict):
        return Refusal("That message could not be read (expected a JSON object).")
    action = payload.get("action", "send")
    if action == "send":
        return _send(payload)
    if action == "stop":
        return Stop(payload.get("message_id"))
    if action == "retry":
        return Retry(payload.get("message_id"))
    if action == "retry_agent":
        return RetryAgent(payload.get("message_id"), payload.get("run_id"))
    if action == "merge_again":
        return MergeAgain(payload.get("message_id"))
    return _branching(action, payload)


def _branching(action: object, payload: dict) -> Action | Refusal:
    if action == "show_version":
        return ShowVersion(payload.get("message_id"))
    if action == "regenerate":
        mode = payload.get("mode")
        return Regenerate(payload.get("message_id"), REGENERATE_MODES.get(mode) if isinstance(mode, str) else None)
    if action == "edit":
        return Edit(payload.get("message_id"), payload.get("message"))
    return Refusal("Unknown action.")


def _send(payload: dict) -> Send:
    client_id = payload.get("client_id")
    strategy = payload.get("strategy")
    judge = payload.get("judge")
    return Send(
        text=payload.get("message"),
        contemplate=_switch(payload.get("contemplate")),
        strategy=strategy if isinstance(strategy, str) else "",
        client_id=client_id if isinstance(client_id, str) and CLIENT_ID.fullmatch(client_id) else "",
        judge=judge if isinstance(judge, str) else None,
        attachments=_ids(payload.get("attachments")),
        auto=_switch(payload["auto"]) if "auto" in payload else None,
        roster=payload["roster"] if isinstance(payload.get("roster"), str) else None,
    )


def _switch(value: object) -> bool:
    return value is True or value in ("on", "true")


def _ids(value: object) -> tuple:
    """One id or a list of them (a form sends one field once, several as a
    list); at most a few more than a message may carry, so a huge list costs nothing."""
    values = value if isinstance(value, list) else [] if value in (None, "") else [value]
    return tuple(values[:settings.MUSE_FILES_PER_MESSAGE + 1])
