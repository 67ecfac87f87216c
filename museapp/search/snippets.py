"""Snippets with the words found marked: the databases put two characters
that never come from a keyboard around each match; the text is HTML-escaped
here and only those become <mark> tags, so a message's own markup stays text."""

from __future__ import annotations

import re

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

START, STOP = "\ue000", "\ue001"  # private-use characters: the databases' markers
_MARKERS = re.compile(f"([{START}{STOP}])")


def marked_html(text: str) -> SafeString:
    """``text`` escaped, with START..STOP spans as <mark>; markers that a
    message itself contains still give balanced tags."""
    html, open_ = [], False
    for part in _MARKERS.split(text):
        if part == START and not open_:
            html.append("<mark>")
            open_ = True
        elif part == STOP and open_:
            html.append("</mark>")
            open_ = False
        elif part not in (START, STOP):
            html.append(escape(part))
    if open_:
        html.append("</mark>")
    return mark_safe("".join(html))


def highlighted(text: str, terms: list[str]) -> SafeString:
    """``text`` (a title) escaped, with each term found in it marked."""
    if not terms:
        return marked_html(text)
    found = re.compile("|".join(re.escape(term) for term in sorted(terms, key=len, reverse=True)), re.IGNORECASE)
    return marked_html(found.sub(lambda match: f"{START}{match[0]}{STOP}", text.replace(START, "").replace(STOP, "")))
