"""HTML frames sent over the WebSocket. Each is built from the same partial
templates as the page, so a reload and a live stream show the same HTML.
htmx swaps every top-level element of a frame out-of-band by its id."""

from __future__ import annotations

from html import escape

from django.template.loader import render_to_string

from museapp.agents.models import AgentRun
from museapp.chat.models import Conversation, Message
from museapp.chat.templatetags.chat import duration
from museapp.streams.names import Stream


def message(msg: Message) -> str:
    """Replace a message's article in place."""
    return render_to_string("chat/_message.html", {"message": msg, "oob": True})


def branch(conversation: Conversation, msgs: list[Message], older: bool) -> str:
    """The whole branch shown, after a version was picked, regenerated or edited."""
    context = {"conversation": conversation, "messages_list": msgs,
               "older_before": msgs[0].pk if older and msgs else None}
    return f'<div id="messages" hx-swap-oob="innerHTML">{render_to_string("chat/_older_messages.html", context)}</div>'


def messages_appended(msgs: list[Message]) -> str:
    inner = "".join(render_to_string("chat/_message.html", {"message": m}) for m in msgs)
    return f'<div id="messages" hx-swap-oob="beforeend">{inner}</div>'


def turn_for_sender(msgs: list[Message], client_id: str, conversation: Conversation, *, title_changed: bool) -> str:
    """The sender's page shows pending bubbles at once; swap in the real
    ones, and move the conversation up the list."""
    html = ""
    if client_id:
        html += f'<div id="pending-{escape(client_id)}" hx-swap-oob="delete"></div>'
    html += messages_appended(msgs)
    html += conversation_moved(conversation, title_changed=title_changed)
    html += render_to_string("files/_tray.html", {"attachments": [], "oob": True})  # the files went with it
    return html + composer_error("")


def tokens(stream: Stream, text: str, rendered: str, count: int, elapsed_ms: float) -> str:
    """The new text, appended to the stream's tail; every few frames also
    the whole text rendered by the worker, which replaces what is shown
    (with a fresh tail at its end)."""
    # No text, nothing to append: a blind comparison's drafts send only
    # their progress, and their panels have no tail to append to.
    html = f'<span id="{stream.dom_id}-tail" hx-swap-oob="beforeend">{escape(text, quote=False)}</span>' if text else ""
    if rendered:
        html += f'<div id="{stream.dom_id}-body" hx-swap-oob="innerHTML">{rendered}</div>'
    if stream.is_agent:
        # An agent's panel shows its live token count and elapsed time.
        html += (f'<span class="agent-stats" id="{stream.dom_id}-stats" hx-swap-oob="true">'
                 f'{int(count)} tokens · {duration(elapsed_ms)}</span>')
    return html


def agent_panel(run: AgentRun) -> str:
    return render_to_string("agents/_agent_panel.html", {"run": run, "oob": True, "open": True})


def conversation_moved(conversation: Conversation, *, title_changed: bool) -> str:
    """After a message: the conversation goes to the top of Today in the
    list (a pinned one stays put; a temporary one is not listed), and its
    title follows a change."""
    context = {"conversation": conversation, "current": conversation}
    html = ""
    if not (conversation.is_temporary or conversation.pinned_at):
        html += render_to_string("chat/_conversation_moved.html", context)
    elif title_changed and not conversation.is_temporary:
        html += render_to_string("chat/_conversation_item.html", {**context, "oob": True})
    if title_changed:
        html += render_to_string("chat/_conversation_title.html", {**context, "oob": True})
    return html


def composer_error(reason: str) -> str:
    return render_to_string("chat/_composer_error.html", {"reason": reason})


def rejected(reason: str, client_id: str, text: str | None) -> str:
    """The input was refused: say why, drop the pending bubbles and give the
    person back what they typed."""
    html = ""
    if client_id:
        html += f'<div id="pending-{escape(client_id)}" hx-swap-oob="delete"></div>'
    if isinstance(text, str):
        html += render_to_string("chat/_composer_input.html", {"text": text, "oob": True})
    return html + composer_error(reason)
