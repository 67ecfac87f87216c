"""Finished answers are shown as Markdown: rendered with raw HTML disabled,
code blocks highlighted, then cleaned by an allowlist sanitizer, so neither a
person nor a model can inject markup. No inline styles either (the
Content-Security-Policy allows none): table alignment becomes a class."""

from functools import lru_cache

import nh3
from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

_formatter = HtmlFormatter(nowrap=True, classprefix="hl-")

ALLOWED_TAGS = {
    "a", "blockquote", "br", "code", "del", "em", "h1", "h2", "h3", "h4", "h5", "h6",
    "hr", "li", "ol", "p", "pre", "span", "strong", "table", "tbody", "td", "th",
    "thead", "tr", "ul",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "code": {"class"},
    "span": {"class"},
    "pre": {"class"},
    "ol": {"start"},
}
ALIGNMENTS = {"left", "center", "right"}
ALLOWED_CLASSES = {cell: {f"align-{a}" for a in ALIGNMENTS} for cell in ("th", "td")}


def _highlight(code: str, lang: str, _attrs) -> str:
    try:
        lexer = get_lexer_by_name(lang) if lang else None
    except ClassNotFound:
        lexer = None
    if lexer is None:
        return ""  # markdown-it escapes the plain code itself
    return highlight(code, lexer, _formatter)


def _alignment_classes(state) -> None:
    """markdown-it aligns table cells with style="text-align:..."; make that
    class="align-..." (styled in muse.css)."""
    for token in state.tokens:
        if token.type in ("th_open", "td_open") and token.attrs:
            style = str(token.attrs.pop("style", ""))
            align = style.removeprefix("text-align:").strip()
            if align in ALIGNMENTS:
                token.attrs["class"] = f"align-{align}"


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    parser = MarkdownIt("commonmark", {"html": False, "linkify": False, "highlight": _highlight}).enable(
        ["table", "strikethrough"]
    )
    parser.core.ruler.push("alignment_classes", _alignment_classes)
    return parser


def render_markdown(text: str) -> SafeString:
    html = _parser().render(text or "")
    clean = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        allowed_classes=ALLOWED_CLASSES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )
    return mark_safe(clean)  # noqa: S308 - sanitized by nh3 just above
