from django import template

from museapp.chat.markdown import render_markdown

register = template.Library()


@register.filter
def markdown(text: str):
    return render_markdown(text)


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
