"""Screenshots of a chat at phone and desktop width, light and dark.

Starts Muse as the benchmarks do (the fake model echoing each message, a
worker, the web process), sends one quick message and one contemplated one
in Debian's chromium, then saves a screenshot per width and colour scheme,
one of the drafts opened, per width the sidebar with a search typed and
with a conversation's menu open, and per width two files attached in the
composer, into bench/screenshots/.

    .venv/bin/python bench/screenshots.py [--out bench/screenshots]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import BenchRun, parse_args  # noqa: E402

QUICK = """How long should **green tea** steep? Reply with:

1. the time, and
2. the temperature, in a table.

```python
# seconds, then degrees
steep(120, 80)
```"""
CONTEMPLATED = "Is 1,001 a prime number?"
SIZES = {"390": {"width": 390, "height": 844}, "1280": {"width": 1280, "height": 860}}


def shoot(run: BenchRun, out: Path) -> int:
    from playwright.sync_api import expect, sync_playwright

    run.start(people=1, workers=1, concurrency=16, fake_options=["--token-delay", "0.01"])
    person = run.people[0]
    out.mkdir(parents=True, exist_ok=True)
    base = f"http://127.0.0.1:{run.web_port}"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        for step, shot in (("quick", "chat"), ("contemplated", "drafts")):
            for scheme in ("light", "dark"):
                for name, size in SIZES.items():
                    context = browser.new_context(base_url=base, viewport=size, color_scheme=scheme)
                    context.add_cookies([{"name": "sessionid", "value": person.session_key, "url": base}])
                    page = context.new_page()
                    page.goto(f"/c/{person.conversation_id}/")
                    if scheme == "light" and name == "390":  # the first of each step writes the message
                        send(page, expect, step)
                    answer = page.locator('article[data-author="assistant"]').last
                    expect(answer).to_have_attribute("data-status", "done", timeout=60_000)
                    if step == "contemplated":
                        answer.locator("details.drafts > summary").click()
                        answer.locator("details.agent > summary").first.click()
                    page.screenshot(path=str(out / f"{shot}-{name}-{scheme}.png"))
                    run.say(f"{shot}, {scheme}, {name} px: saved")
                    context.close()
        for name, size in SIZES.items():
            sidebar(browser, expect, base, person, size, out / f"sidebar-{name}")
            run.say(f"sidebar, {name} px: saved")
            attached(browser, expect, base, person, size, out / f"files-{name}.png")
            run.say(f"files, {name} px: saved")
        browser.close()
    return 0


def sidebar(browser, expect, base: str, person, size: dict, stem: Path) -> None:
    """The list with a search typed, then a conversation's actions menu open
    (at phone width, in the drawer)."""
    context = browser.new_context(base_url=base, viewport=size)
    context.add_cookies([{"name": "sessionid", "value": person.session_key, "url": base}])
    page = context.new_page()
    page.goto(f"/c/{person.conversation_id}/")
    if page.get_by_role("button", name="Chats").is_visible():
        page.get_by_role("button", name="Chats").click()
    page.get_by_role("searchbox", name="Search conversations").fill("green tea")
    expect(page.locator("#search-results mark").first).to_be_visible(timeout=10_000)
    page.screenshot(path=f"{stem}-search.png")
    page.get_by_role("searchbox", name="Search conversations").fill("")
    page.locator("details.conversation-actions > summary").first.click()
    page.screenshot(path=f"{stem}-menu.png")
    context.close()


def attached(browser, expect, base: str, person, size: dict, path: Path) -> None:
    """Two files chosen with the paperclip, read and waiting in the composer."""
    context = browser.new_context(base_url=base, viewport=size)
    context.add_cookies([{"name": "sessionid", "value": person.session_key, "url": base}])
    page = context.new_page()
    page.goto(f"/c/{person.conversation_id}/")
    with page.expect_file_chooser() as chooser:
        page.get_by_role("button", name="Attach files").click()
    chooser.value.set_files([
        {"name": "quarterly-report-2026.csv", "mimeType": "text/csv", "buffer": b"region,revenue\nnorth,12\n" * 400},
        {"name": "notes.md", "mimeType": "text/markdown", "buffer": b"# Notes\n- steep for two minutes\n"}])
    expect(page.locator('#attachment-tray .chip[data-status="ready"]')).to_have_count(2, timeout=30_000)
    page.get_by_role("textbox", name="Message").fill("Which region grew most?")
    page.screenshot(path=str(path))
    for chip in page.locator("#attachment-tray .chip-remove").all():
        chip.click()
    expect(page.locator("#attachment-tray .chip")).to_have_count(0)
    context.close()


def send(page, expect, step: str) -> None:
    if step == "contemplated":
        page.get_by_role("switch", name="Contemplating").check()
    page.get_by_role("textbox", name="Message").fill(QUICK if step == "quick" else CONTEMPLATED)
    page.get_by_role("button", name="Send").click()
    expect(page.locator('article[data-author="assistant"]')).to_have_count(1 if step == "quick" else 2)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "screenshots")
    args = parse_args(parser, out=Path(tempfile.gettempdir()) / "muse-screenshots")  # quick: not over the committed ones
    run = BenchRun("screenshots", tag="shots")
    return run.execute(lambda: shoot(run, args.out))


if __name__ == "__main__":
    raise SystemExit(main())
