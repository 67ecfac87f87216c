"""The browser fixtures (chromium through Playwright, a page that fails its
test on any htmx console error, CSP violations, the clipboard), loaded as a
pytest plugin (pytest.ini: ``-p tests.browsers``) so every test package that
drives a browser has the same set, whatever fixture it grows next."""

import os
import shutil

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser():
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail("chromium is missing: .ci/run installs Debian's chromium")
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop running in this thread, which
    # Django's async-safety check mistakes for async code around the test's
    # own database set-up. Muse itself runs in the server processes.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(browser, live_server_url, htmx_errors):
    context = browser.new_context(base_url=live_server_url, viewport={"width": 1100, "height": 800})
    htmx_errors.watch(context)
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


class HtmxErrors:
    """htmx logs what it could not do (an out-of-band swap with no target, a
    failed request, a bad swap) to the console as errors naming the event
    ("htmx:oobErrorNoTarget"): each is a broken page, so any fails the test."""

    def __init__(self):
        self.seen: list[str] = []

    def watch(self, context) -> None:
        """Record the errors of every page of ``context``."""
        context.on("console", self.record)

    def record(self, message) -> None:
        if message.type in ("error", "warning") and "htmx:" in message.text:
            where = message.location or {}
            self.seen.append(f"{message.type}: {message.text} (at {message.page.url if message.page else '?'}, "
                             f"{where.get('url', '')}:{where.get('lineNumber', '')})")

    def check(self) -> None:
        assert not self.seen, "htmx reported errors in the browser console:\n" + "\n".join(self.seen)


@pytest.fixture
def htmx_errors():
    """htmx's errors in the consoles of the contexts it watches (the
    ``page`` fixture's, and any a test opens and hands to ``watch``): the
    test fails at its end if there was one."""
    errors = HtmxErrors()
    yield errors
    errors.check()


# Every page of the context records Content-Security-Policy violations in
# window.__cspViolations; the browser also logs each to the console, which
# outlives navigations.
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.violatedDirective} blocked ${event.blockedURI || "inline"}`
    + ` at ${event.sourceFile || document.location.pathname}:${event.lineNumber} ${event.sample || ""}`);
});
"""


@pytest.fixture
def csp_violations(page):
    """A function returning every policy violation seen so far on any page."""
    logged: list[str] = []
    page.on("console", lambda message: "Content Security Policy" in message.text and logged.append(message.text))
    page.add_init_script(RECORD_VIOLATIONS)

    def seen() -> list[str]:
        on_this_page = page.evaluate("window.__cspViolations || []")
        return logged + on_this_page

    return seen


@pytest.fixture
def clipboard(page):
    """The page may write and read the clipboard; calling this reads it."""
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    return lambda: page.evaluate("navigator.clipboard.readText()")
