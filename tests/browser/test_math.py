"""Math in answers: TeX marked by the Markdown parser, rendered in the page
by the vendored KaTeX within the Content-Security-Policy, and hostile TeX
neutralised."""

import pytest
from playwright.sync_api import expect

from museapp.streams.markdown import render_markdown
from tests.browser.test_chat_flow import sign_up
from tests.fakellm import Reply
from tests.markup import parse_html

MATH = r"""Euler: $e^{i\pi} + 1 = 0$, and \(a^2 + b^2 = c^2\).

$$
\int_0^1 x^2 \, dx = \frac{1}{3}
$$

It costs $5 and $10, and `$x$` is code."""

HOSTILE_MATH = [
    r"$\href{javascript:window.__xss=1}{click}$",
    r"$\url{javascript:window.__xss=1}$",
    r"$\htmlData{foo=bar}{x}$",
    r"$\htmlStyle{position:fixed;top:0;left:0;width:100vw;height:100vh}{x}$",
    r"$\includegraphics{https://example.com/x.png}$",
    r"$\rule{100000em}{100000em}$",
    r"$\kern{100000em}x$",
    "$" + "{" * 3000 + "x" + "}" * 3000 + "$",
    "$" + "{" * 1900 + "x" + "}" * 1900 + "$",
    r"$\def\a{\a\a}\a$",
    "$</span><script>window.__xss=1</script>$",
]


def test_the_parser_marks_math_and_leaves_money_and_code_alone():
    page = parse_html(render_markdown(MATH))

    assert [span.text for span in page.all("span", **{"class": "math-inline"})] == [
        r"e^{i\pi} + 1 = 0", "a^2 + b^2 = c^2"]
    assert page.one("div", **{"class": "math-display"}).text == r"\int_0^1 x^2 \, dx = \frac{1}{3}"
    assert "It costs $5 and $10" in page.text
    assert page.one("code").text == "$x$"


@pytest.mark.parametrize("payload", HOSTILE_MATH)
def test_hostile_tex_is_escaped_text_on_the_server(payload):
    page = parse_html(render_markdown(payload))

    assert page.all("script") == [] and page.all("a") == []


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_math_stays_plain_while_streaming_then_renders_with_katex_within_the_policy(page, llm, csp_violations):
    tail = " ".join(f"word{i}" for i in range(120))
    llm.script("Show me math", Reply(text=MATH + "\n\n" + tail, token_delay=0.02))
    sign_up(page, "gauss")
    page.get_by_role("textbox", name="Message").fill("Show me math")
    page.get_by_role("button", name="Send").click()
    answer = page.locator('article[data-author="assistant"]').last
    expect(answer.locator(".streaming .math-display")).to_have_count(1, timeout=15_000)
    assert answer.get_attribute("data-status") == "streaming", "seen mid-stream"
    assert answer.locator(".katex").count() == 0, "plain until done"
    expect(answer).to_have_attribute("data-status", "done", timeout=30_000)

    expect(answer.locator(".math-inline .katex")).to_have_count(2)
    expect(answer.locator(".math-display .katex-display")).to_have_count(1)
    expect(answer.locator(".katex-mathml math").first).to_be_attached()  # what a screen reader reads
    expect(answer).to_contain_text("It costs $5 and $10")
    page.reload()
    expect(page.locator('article[data-author="assistant"]').last.locator(".katex")).to_have_count(3)
    assert csp_violations() == []


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_hostile_math_runs_nothing_links_nowhere_and_stays_small(page, llm):
    llm.script("Hostile math", Reply(text="\n\n".join(HOSTILE_MATH)))
    llm.script("Still there?", Reply(text="Yes."))
    sign_up(page, "eve")
    page.get_by_role("textbox", name="Message").fill("Hostile math")
    page.get_by_role("button", name="Send").click()
    answer = page.locator('article[data-author="assistant"]').last
    expect(answer).to_have_attribute("data-status", "done")
    expect(answer.locator(".math-inline[data-rendered]")).to_have_count(len(HOSTILE_MATH))

    assert page.evaluate("window.__xss") is None
    assert answer.locator("a").count() == 0, "no link, javascript: or otherwise"
    assert answer.locator("img, script, [data-foo]").count() == 0
    sizes = answer.locator(".math-inline").evaluate_all(
        "nodes => nodes.map(n => n.querySelector('.katex') ? [n.offsetWidth, n.offsetHeight] : 'as written')")
    huge = {HOSTILE_MATH[i][:30]: size for i, size in enumerate(sizes) if size != "as written"
            and (size[0] > 1100 or size[1] > 400)}
    assert huge == {}, "\\rule and \\kern are capped (maxSize)"
    assert sizes[HOSTILE_MATH.index("$" + "{" * 3000 + "x" + "}" * 3000 + "$")] == "as written", "too long to render"
    page.get_by_role("textbox", name="Message").fill("Still there?")  # the page still works
    page.get_by_role("button", name="Send").click()
    expect(page.locator('article[data-author="assistant"]').last.locator(".body")).to_have_text("Yes.")
