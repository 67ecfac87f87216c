"""Accessibility in a real browser, light and dark: axe-core (vendored for
the tests, never served) finds no serious or critical violation on the chat,
a contemplation, settings and insights; and what axe does not measure: the
edges of fields and of the switch stand out from the page (3:1), and every
control shows the same focus ring."""

import re

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from tests.browser.test_chat_flow import sign_up
from tests.conftest import ROOT
from tests.fakellm import Reply

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = (ROOT / "tests" / "vendor" / "axe-core" / "axe.min.js").read_text()
ROLES = ["Direct solver", "Step-by-step reasoner", "Skeptic", "Explorer"]
RICH_ANSWER = """Here is **a plan**, with [a link](https://example.com/plan):

| step | time |
|------|-----:|
| boil | 5 min |

```python
# a comment people must be able to read
water = boil(litres=1)  # and another
print("ready")
```"""


def serious_violations(page) -> list[str]:
    """axe-core's serious and critical findings on the page as it is."""
    page.evaluate(AXE + ";0")  # evaluated by the browser's tools: the page's policy (no inline script) allows it
    return page.evaluate("""async () => {
        const result = await axe.run(document, {resultTypes: ["violations"]});
        return result.violations.filter(v => v.impact === "serious" || v.impact === "critical")
            .map(v => `${v.id} (${v.impact}): ${v.nodes.map(n => n.target.join(" ")).join(", ")}`);
    }""")


@pytest.fixture(params=["light", "dark"])
def scheme_page(request, browser, live_server_url, htmx_errors):
    context = browser.new_context(base_url=live_server_url, color_scheme=request.param,
                                  viewport={"width": 1280, "height": 900})
    htmx_errors.watch(context)
    page = context.new_page()
    page.set_default_timeout(20_000)
    yield page
    context.close()


def answered(page):
    answer = page.locator('article[data-author="assistant"]').last
    expect(answer).to_have_attribute("data-status", "done", timeout=30_000)
    return answer


def test_a_chat_with_a_rich_answer_has_no_serious_violations(scheme_page, llm):
    llm.script("Plan the tea", Reply(text=RICH_ANSWER))
    sign_up(scheme_page, "axel")
    assert serious_violations(scheme_page) == [], "the empty chat"

    scheme_page.get_by_role("textbox", name="Message").fill("Plan the tea")
    scheme_page.get_by_role("button", name="Send").click()
    answer = answered(scheme_page)
    expect(answer.locator(".code-head .copy")).to_be_visible()

    assert serious_violations(scheme_page) == []


def test_a_contemplation_with_its_drafts_open_has_no_serious_violations(scheme_page, llm):
    question = "Contemplate the tea"
    for role in ROLES:
        llm.script(question, Reply(text=f"{role}: steep it **four** minutes.\n\nFinal answer: 4"),
                   system=f"You are the {role}")
    sign_up(scheme_page, "cora")
    scheme_page.get_by_role("switch", name="Contemplating").check()
    scheme_page.get_by_role("textbox", name="Message").fill(question)
    scheme_page.get_by_role("button", name="Send").click()
    answer = answered(scheme_page)
    answer.locator("details.drafts > summary").click()
    answer.locator("details.agent > summary").first.click()
    answer.get_by_role("button", name="Thumbs down").click()
    expect(answer.get_by_role("button", name="Send feedback")).to_be_visible()

    assert serious_violations(scheme_page) == []


def test_settings_and_insights_have_no_serious_violations(scheme_page, llm):
    llm.script("Rate me", Reply(text="Rated."))
    sign_up(scheme_page, "ines")
    scheme_page.get_by_role("textbox", name="Message").fill("Rate me")
    scheme_page.get_by_role("button", name="Send").click()
    answered(scheme_page).get_by_role("button", name="Thumbs up").click()
    get_user_model().objects.filter(username="ines").update(is_staff=True, is_superuser=True)

    scheme_page.goto("/settings/")
    expect(scheme_page.get_by_role("heading", name="Settings")).to_be_visible()
    assert serious_violations(scheme_page) == [], "settings"
    scheme_page.goto("/insights/")
    expect(scheme_page.get_by_role("heading", name="Does contemplating pay off?")).to_be_visible()
    assert serious_violations(scheme_page) == [], "insights"


def contrast(first: str, second: str) -> float:
    """WCAG's contrast ratio of two computed colours ("rgb(r, g, b)")."""
    def luminance(color: str) -> float:
        channels = [int(c) / 255 for c in re.findall(r"\d+", color)[:3]]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    high, low = sorted([luminance(first), luminance(second)], reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_the_composer_the_switch_and_the_menus_stand_out_from_the_page(scheme_page):
    sign_up(scheme_page, "edge")
    page_color = scheme_page.locator("#composer").evaluate("c => getComputedStyle(c).backgroundColor")
    composer = scheme_page.get_by_role("textbox", name="Message")
    switch = scheme_page.get_by_role("switch", name="Contemplating")
    edges = {
        "the composer's border": composer.evaluate("e => getComputedStyle(e).borderTopColor"),
        "the switch, off": switch.evaluate("e => getComputedStyle(e).backgroundColor"),
    }
    switch.check()
    edges["the switch, on"] = switch.evaluate("e => getComputedStyle(e).backgroundColor")
    edges["the strategy menu's border"] = scheme_page.locator("#strategy-select").evaluate(
        "e => getComputedStyle(e).borderTopColor")

    ratios = {name: round(contrast(color, page_color), 2) for name, color in edges.items()}
    assert all(ratio >= 3 for ratio in ratios.values()), ratios


def test_every_control_shows_the_same_focus_ring(scheme_page, llm):
    llm.script("Ring", Reply(text="Rung."))
    sign_up(scheme_page, "rin")
    scheme_page.get_by_role("textbox", name="Message").fill("Ring")
    scheme_page.get_by_role("button", name="Send").click()
    answered(scheme_page)
    scheme_page.locator("body").click(position={"x": 5, "y": 5})

    rings = {}
    for _ in range(30):  # Tab through the page, to its end
        scheme_page.keyboard.press("Tab")
        focused = scheme_page.evaluate("""() => {
            const e = document.activeElement, s = getComputedStyle(e);
            if (e === document.body) return null;
            return [e.tagName + (e.id ? "#" + e.id : "") + " " + (e.getAttribute("aria-label") || e.textContent.trim().slice(0, 20)),
                    `${s.outlineStyle} ${s.outlineWidth} ${s.outlineColor}`];
        }""")
        if focused is None:
            break
        rings[focused[0]] = focused[1]

    assert len(rings) > 10, rings
    assert {control: ring for control, ring in rings.items() if not ring.startswith("solid 2px")} == {}
    assert len(set(rings.values())) == 1, rings
