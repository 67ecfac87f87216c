"""A conversation's branch shown, as a Markdown file to read: a heading per
turn, the person's words and Muse's answer as they were written (a download
is never rendered by Muse, so no text in it is escaped or dropped), and under
each answer a line with its model, tokens, timings and cost."""

from __future__ import annotations

from django.utils import timezone

from museapp.chat.branches import Node, leaf_of, path_to
from museapp.chat.models import Conversation, Message
from museapp.chat.templatetags.chat import duration, usd
from museapp.files.sniff import size_text
from museapp.llm.config import label_for

WHEN = "%Y-%m-%d %H:%M UTC"


def conversation_markdown(conversation: Conversation) -> str:
    """``conversation``, loaded ``with_trees``, as Markdown."""
    messages = {m.pk: m for m in conversation.messages.all()}
    tree = {m.pk: Node(m.pk, m.parent_id, m.author) for m in messages.values()}
    branch = [messages[pk] for pk in path_to(leaf_of(conversation, tree), tree)]
    title = " ".join(conversation.display_title.split())
    parts = [f"# {title}\n\nExported from Muse on {timezone.now().strftime(WHEN)}.\n"]
    turn = 0
    for message in branch:
        if not message.is_assistant or turn == 0:
            turn += 1
            parts.append(f"## Turn {turn}")
        parts.append(message_markdown(message))
    return "\n\n".join(parts) + "\n"


def message_markdown(message: Message) -> str:
    who = "Muse" if message.is_assistant else "You"
    lines = [f"### {who} · {message.created_at.strftime(WHEN)}", message.content.strip() or "*(no text)*"]
    if message.is_assistant:
        lines += [line for line in (outcome_line(message), meta_line(message)) if line]
    elif files := message.attachments.all():
        lines.append("Attached: " + ", ".join(f"{f.name} ({size_text(f.size)})" for f in files))
    return "\n\n".join(lines)


def outcome_line(message: Message) -> str:
    if message.status == Message.Status.STOPPED:
        return "*Stopped.*"
    if message.status == Message.Status.STREAMING:
        return "*Still being written when exported.*"
    if message.status == Message.Status.ERROR:
        return f"*{message.error or 'Failed.'}*"
    return ""


def meta_line(message: Message) -> str:
    """"Model: GPT-4o mini · 120 → 300 tokens · first token 240 ms · 2.1 s in all · $0.0012"."""
    contemplation = message.contemplation_or_none
    parts = [f"Model: {label_for(message.model)}" if message.model else ""]
    if contemplation is not None:
        parts.append(f"contemplated by {contemplation.agent_count} agents "
                     f"({contemplation.strategy_used or contemplation.strategy})")
    if message.completion_tokens is not None:
        parts.append(f"{message.prompt_tokens or 0} → {message.completion_tokens} tokens")
    if message.ttft_ms is not None:
        parts.append(f"first token {duration(message.ttft_ms)}")
    if message.total_ms is not None:
        parts.append(f"{duration(message.total_ms)} in all")
    if message.cost is not None:
        parts.append(usd(message.cost))
    shown = [part for part in parts if part]
    return f"*{' · '.join(shown)}*" if shown else ""
