from django import template
from django.utils import timezone

from museapp.llm.config import label_for
from museapp.streams.markdown import render_live, render_markdown

register = template.Library()


@register.filter
def markdown(text: str):
    return render_markdown(text)


@register.filter
def live_markdown(text: str, record):
    """A stream's text so far, as frames render it (museapp/streams/markdown.py)."""
    return render_live(text, record.stream.dom_id)


@register.filter
def duration(ms):
    if ms is None:
        return ""
    return f"{ms / 1000:.1f} s" if ms >= 1000 else f"{ms:.0f} ms"


@register.filter
def usd(cost):
    if cost is None:
        return ""
    cost = float(cost)
    return f"${cost:.4f}" if cost >= 0.0001 or cost == 0 else f"${cost:.6f}"


@register.filter
def model_label(model: str) -> str:
    return label_for(model) if model else ""


@register.filter
def dom_id(record) -> str:
    """The page element id of an answer or an agent's panel: its stream's
    name (museapp/streams/names.py), which frames address."""
    return record.stream.dom_id


@register.filter
def thousands(number) -> str:
    try:
        return f"{int(number):,}"
    except (TypeError, ValueError):
        return ""


@register.filter
def letter_of(contemplation, run) -> str:
    return contemplation.letter_of(run)


@register.filter
def percent(value) -> str:
    return "" if value is None else f"{value * 100:.1f}%"


@register.filter
def attr_day(row) -> str:
    return str(row.get("day", "")) if isinstance(row, dict) else ""


@register.filter
def seconds_since(moment) -> float:
    """Seconds from ``moment`` to now: a running timer's start (the page's
    script counts on from it, so a client's clock never matters)."""
    return max((timezone.now() - moment).total_seconds(), 0.0) if moment else 0.0
