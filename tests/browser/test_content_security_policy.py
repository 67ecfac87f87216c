"""Muse works under its Content-Security-Policy: no inline script, eval or
inline style anywhere a person (or staff) goes."""

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from museapp.chat.models import Message
from tests.browser.test_chat_flow import sign_up
from tests.fakellm import Reply

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_browser_enforces_the_policy_and_the_watch_sees_it(page, csp_violations):
    page.goto("/accounts/login/")

    page.evaluate("""() => {
      const script = document.createElement("script");
      script.textContent = "window.__ran = 1";
      document.head.appendChild(script);
      const style = document.createElement("style");
      style.textContent = "body { color: red }";
      document.head.appendChild(style);
    }""")

    assert page.evaluate("window.__ran") is None
    seen = " ".join(csp_violations())
    assert "script-src" in seen and "style-src" in seen


def test_chatting_rating_and_the_staff_pages_break_no_rule_of_the_policy(page, llm, csp_violations):
    for role in ["Direct solver", "Step-by-step reasoner", "Skeptic", "Explorer"]:
        llm.script("Is 91 prime?", Reply(text=f"{role}: 91 = 7 x 13. Final answer: no", token_delay=0.02),
                   system=f"You are the {role}")
    llm.script("Is 91 prime?", Reply(text="Relied on: A, B\n\n| n | prime |\n|:-:|--:|\n| 91 | no |",
                                     token_delay=0.02), system="judge")
    llm.script("a table", Reply(text="| left | right |\n|:--|--:|\n| 1 | 2 |\n\n```python\nx = 1\n```",
                                token_delay=0.02))
    sign_up(page, "hedy")

    page.get_by_role("textbox", name="Message").fill("a table, please")
    page.get_by_role("textbox", name="Message").press("Enter")
    answer = page.locator('article[data-author="assistant"]').last
    expect(answer).to_have_attribute("data-status", "done")
    expect(answer.locator("td.align-right")).to_have_css("text-align", "right")  # the class, styled

    page.get_by_role("switch", name="Contemplating").check()
    page.get_by_role("textbox", name="Message").fill("Is 91 prime?")
    page.get_by_role("button", name="Send").click()
    expect(page.locator("details.agent")).to_have_count(4)
    answer = page.locator('article[data-author="assistant"]').last
    expect(answer).to_have_attribute("data-status", "done", timeout=30_000)

    answer.get_by_role("button", name="Thumbs up").click()
    answer.get_by_label("accurate").check()
    answer.get_by_role("button", name="Send feedback").click()
    expect(answer.locator(".rating-why > summary")).to_have_text("Thanks · Edit")
    answer.locator("details.drafts > summary").click()
    answer.locator("details.agent summary").first.click()
    answer.get_by_role("button", name="Best draft").first.click()
    expect(answer.locator('.best-draft button[aria-pressed="true"]')).to_have_count(1)
    expect(answer.locator("details.agent").first).to_have_attribute("open", "")  # kept open, pressed
    page.reload()
    expect(page.locator('article[data-author="assistant"]')).to_have_count(2)
    assert csp_violations() == []

    get_user_model().objects.filter(username="hedy").update(is_staff=True, is_superuser=True)
    page.goto("/insights/")
    expect(page.get_by_role("heading", name="Does contemplating pay off?")).to_be_visible()
    assert csp_violations() == []

    message = Message.objects.filter(author="assistant").last()
    for path in ["/admin/", "/admin/chat/message/", f"/admin/chat/message/{message.pk}/change/"]:
        page.goto(path)
        expect(page.locator("#content")).to_be_visible()
        assert csp_violations() == [], path
