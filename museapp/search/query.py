"""What a person types, made into terms both databases can be asked for
safely: words only, so quotes, ``*``, ``:``, ``NEAR`` or parentheses are
searched as words and never parsed as query syntax."""

from __future__ import annotations

import re

MAX_CHARS = 200  # longer input is cut here (the box's maxlength says so too)
MAX_TERMS = 8
MAX_TERM_CHARS = 40
PREFIX_MIN_CHARS = 3  # the last word matches as a prefix ("as you type") from 3 letters

_WORD = re.compile(r"[^\W_]+")  # letters and digits: what both databases' tokenizers keep


def terms_of(text: object) -> list[str]:
    """The words searched for, lower-cased, in order, each once."""
    if not isinstance(text, str):
        return []
    words = (word[:MAX_TERM_CHARS] for word in _WORD.findall(text[:MAX_CHARS].lower()))
    return list(dict.fromkeys(words))[:MAX_TERMS]


def last_is_prefix(terms: list[str]) -> bool:
    return bool(terms) and len(terms[-1]) >= PREFIX_MIN_CHARS


def fts5_query(terms: list[str]) -> str:
    """An FTS5 MATCH expression: every term, each a quoted string (the last
    one a prefix), so nothing in it is FTS5 syntax."""
    quoted = [f'"{term}"' for term in terms]
    if last_is_prefix(terms):
        quoted[-1] += "*"
    return " ".join(quoted)
