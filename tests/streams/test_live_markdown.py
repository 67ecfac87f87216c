"""A stream's text is shown as Markdown while it grows: rendered as the
finished answer will be, with a tail at the very end of the text where the
next tokens go, so nothing moves when the answer is done."""

import pytest

from museapp.streams.markdown import END, render_live, render_markdown
from tests.markup import parse_html

TAIL = '<span id="msg-7-tail" class="tail"></span>'

ANSWER = """Here is **the plan**:

1. Read the *file*.
2. Count the `words`.

```python
def count(text):
    return len(text.split())
```

| word | count |
|:-----|------:|
| muse | 3 |

Done."""


def live(text: str) -> str:
    return render_live(text, "msg-7")


def around_the_tail(text: str) -> list[str]:
    """The tags of the elements the tail sits in, innermost first."""
    tail = parse_html(live(text)).one("span", id="msg-7-tail")
    tags = []
    while tail.parent is not None and tail.parent.tag:
        tail = tail.parent
        tags.append(tail.tag)
    return tags


def test_the_whole_text_renders_live_exactly_as_it_will_when_finished():
    assert live(ANSWER).replace(TAIL, "") == render_markdown(ANSWER)


@pytest.mark.parametrize("end", range(0, len(ANSWER) + 1, 7))
def test_every_growing_prefix_has_exactly_one_tail(end):
    assert live(ANSWER[:end]).count(TAIL) == 1


def test_emphasis_shows_as_soon_as_it_closes():
    tree = parse_html(live("Here is **the plan"))
    assert tree.all("strong") == [] and "**the plan" in tree.text, "not yet closed: still plain text"

    tree = parse_html(live("Here is **the plan** and"))
    assert tree.one("strong").text == "the plan"
    assert "**" not in tree.text


@pytest.mark.parametrize(("text", "inside"), [
    ("A sentence still being", "p"),
    ("- first\n- second item", "li"),
    ("```python\ndef count(text):\n    ret", "code"),
    ("> quoted and", "p"),
    ("# A heading", "h1"),
])
def test_the_tail_sits_where_the_text_ends(text, inside):
    assert inside in around_the_tail(text)


def test_the_tail_starts_a_new_paragraph_after_a_blank_line():
    first, second = parse_html(live("First paragraph.\n\n")).all("p")

    assert first.text == "First paragraph."
    assert second.text == "" and second.one("span", id="msg-7-tail"), "the next one, empty so far"


def test_a_language_still_being_typed_never_puts_the_tail_in_an_attribute():
    rendered = live("```pyth")

    assert rendered.count(TAIL) == 1
    assert 'class="language-pyth"' in rendered
    assert END not in rendered


def test_the_end_mark_in_a_models_own_text_is_dropped():
    assert END not in render_markdown(f"a{END}b") and "ab" in render_markdown(f"a{END}b")
    assert live(f"a{END}b").count(TAIL) == 1


def test_a_code_block_has_a_header_naming_its_language():
    block = parse_html(render_markdown("```python\nprint(1)\n```")).one("div", **{"class": "code-block"})

    assert block.one("div", **{"class": "code-head"}).text == "python"
    assert "print(1)" in block.one("pre").text


def test_an_indented_code_block_has_a_plain_header():
    block = parse_html(render_markdown("Text.\n\n    x = 1\n")).one("div", **{"class": "code-block"})

    assert block.one("div", **{"class": "code-head"}).text == "code"


def test_a_hostile_language_name_is_escaped_in_the_header():
    rendered = render_markdown('```<img/src=x/onerror=alert(1)>\nx\n```')

    assert "<img" not in rendered
    assert parse_html(rendered).all("img") == []


PASTED_CODE = "def count(text):\n    words = text.split()\n    return len(words)"


def test_single_line_breaks_are_kept_as_chat_apps_keep_them():
    paragraph = parse_html(render_markdown(PASTED_CODE)).one("p")

    assert len(paragraph.all("br")) == 2, "code pasted without a fence comes back line by line"
    assert paragraph.text.splitlines() == ["def count(text):", "words = text.split()", "return len(words)"]


def test_a_code_block_keeps_its_lines_without_line_break_tags():
    rendered = render_markdown(f"```python\n{PASTED_CODE}\n```")

    assert "<br" not in rendered
    assert parse_html(rendered).one("pre").text == PASTED_CODE + "\n"


def test_a_text_with_single_line_breaks_renders_live_as_it_will_when_finished():
    text = f"Three lines:\nfirst\nsecond\n\n{PASTED_CODE}"

    assert live(text).replace(TAIL, "") == render_markdown(text)


def test_after_a_line_break_the_tail_starts_the_next_line():
    rendered = live("first line\n")

    assert rendered.index("<br>") < rendered.index(TAIL)
