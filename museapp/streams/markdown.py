"""Answers are shown as Markdown: rendered with raw HTML disabled, single
line breaks kept (as chat apps do, not as CommonMark does), code
blocks highlighted under a header naming their language, then cleaned by an
allowlist sanitizer, so neither a person nor a model can inject markup. No
inline styles either (the Content-Security-Policy allows none): table
alignment becomes a class.

A stream's text is rendered the same way while it grows (``render_live``):
the worker renders it a few times a second, once per stream, and the page
appends the tokens in between to a tail at the very end of the rendered text.
"""

from functools import lru_cache
from html import escape

import nh3
from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt
from mdit_py_plugins.dollarmath import dollarmath_plugin
from mdit_py_plugins.texmath import texmath_plugin
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

_formatter = HtmlFormatter(nowrap=True, classprefix="hl-")

ALLOWED_TAGS = {
    "a", "blockquote", "br", "code", "del", "div", "em", "h1", "h2", "h3", "h4", "h5", "h6",
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
ALLOWED_CLASSES = {
    **{cell: {f"align-{a}" for a in ALIGNMENTS} for cell in ("th", "td")},
    "div": {"code-block", "code-head", "math-display"},
}
# Marks where a growing text ends, so the tail can be put there: a
# private-use character, taken out of the model's own text first.
END = "\ue000"


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


def _end_out_of_attributes(state) -> None:
    """The end mark belongs in text, never in an attribute (a fence's
    language being typed, a link's address): there it is dropped, and the
    tail goes after the rendered text instead."""
    for token in state.tokens:
        token.info = token.info.replace(END, "")
        for child in [token, *(token.children or [])]:
            for name, value in list((child.attrs or {}).items()):
                if isinstance(value, str):
                    child.attrs[name] = value.replace(END, "")


def _fence_with_header(default):
    """Code blocks sit under a header naming their language; the page adds
    a Copy button there, beside the code rather than over it."""

    def render(_renderer, tokens, idx, options, env):
        language = (tokens[idx].info.split(maxsplit=1) or [""])[0]
        label = escape(language) or "code"
        header = f'<div class="code-head"><span class="code-lang">{label}</span></div>'
        return f'<div class="code-block">{header}{default(tokens, idx, options, env)}</div>\n'

    return render


def _math(html: str):
    """Math stays TeX source in the page, escaped; the page renders it with
    KaTeX once the answer is done (static/js/muse.js)."""

    def render(_renderer, tokens, idx, _options, _env):
        return html.format(escape(tokens[idx].content.strip(), quote=False))

    return render


def _money(state, silent: bool) -> bool:
    """A $ before a digit is money ("$5 and $10"), never the start of math;
    the cost: "$2x$" is not math either (write "$x \\cdot 2$" or "\\(2x\\)")."""
    if not state.src.startswith("$", state.pos) or not state.src[state.pos + 1:state.pos + 2].isdigit():
        return False
    if not silent:
        state.pending += "$"
    state.pos += 1
    return True


BLOCK_MATH = '<div class="math-display">{}</div>\n'
MATH_TOKENS = {
    "math_inline": '<span class="math-inline">{}</span>',
    "math_inline_double": '<span class="math-inline math-display-inline">{}</span>',  # $$…$$ within a line
    "math_block": BLOCK_MATH, "math_block_label": BLOCK_MATH, "math_block_eqno": BLOCK_MATH,
}


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    # "breaks": a single line break stays one, as in chat apps (code pasted
    # without a fence comes back line by line); code blocks are unchanged.
    options = {"html": False, "linkify": False, "breaks": True, "highlight": _highlight}
    parser = MarkdownIt("commonmark", options).enable(["table", "strikethrough"])
    # $…$, $$…$$, \(…\) and \[…\]; "$5 and $10" is money, not math.
    parser.use(dollarmath_plugin, allow_digits=False, allow_space=False, double_inline=True)
    parser.use(texmath_plugin, delimiters="brackets")
    parser.inline.ruler.before("math_inline", "money", _money)
    for token_type, html in MATH_TOKENS.items():
        parser.add_render_rule(token_type, _math(html))
    parser.core.ruler.push("alignment_classes", _alignment_classes)
    parser.core.ruler.push("end_out_of_attributes", _end_out_of_attributes)
    for rule in ("fence", "code_block"):
        parser.add_render_rule(rule, _fence_with_header(parser.renderer.rules[rule]))
    return parser


def render_markdown(text: str) -> SafeString:
    return mark_safe(_sanitized(_parser().render((text or "").replace(END, ""))))  # noqa: S308 - nh3


def render_live(text: str, dom_id: str) -> SafeString:
    """``text`` so far, rendered as ``render_markdown`` will render it once
    whole, with an empty ``<dom_id>-tail`` where it ends (inside its last
    paragraph, list item or code block) for the tokens still to come. No
    text yet: the tail alone, which the page shows as "…"."""
    text = (text or "").replace(END, "")
    tail = f'<span id="{escape(dom_id)}-tail" class="tail"></span>'
    if not text:
        return mark_safe(tail)  # noqa: S308 - our own span
    html = _sanitized(_parser().render(text + END))
    if END in html:
        return mark_safe(html.replace(END, tail, 1).replace(END, ""))  # noqa: S308 - nh3, then our own span
    return mark_safe(html + tail)  # noqa: S308 - the end fell where nothing is shown (a link's address)


def _sanitized(html: str) -> str:
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        allowed_classes=ALLOWED_CLASSES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )
