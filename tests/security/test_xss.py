"""Hostile HTML from a person or a model never runs: not in the live token
frames, not in the finished Markdown, not after a reload.

Each payload sets ``window.__xss`` if it ever executes, so the browser test
can tell "shown as text" from "ran"."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from museapp.streams.markdown import ALLOWED_TAGS, render_live, render_markdown
from museapp.chat.models import Conversation, Message
from museapp.streams.names import Stream
from museapp.web import frames
from tests.browser.test_chat_flow import sign_up
from tests.fakellm import Reply
from tests.markup import Element, parse_html

PAYLOADS = [
    "<script>window.__xss=1</script>",
    "<img src=x onerror=window.__xss=1>",
    "<svg onload=window.__xss=1>",
    "<img/src=x/onerror=window.__xss=1>",  # no spaces: one streamed token
    "[click me](javascript:window.__xss=1)",
    "[click me](JaVaScRiPt:window.__xss=1)",
    "![picture](javascript:window.__xss=1)",
    "<javascript:window.__xss=1>",
    "[data](data:text/html;base64,PHNjcmlwdD53aW5kb3cuX194c3M9MTwvc2NyaXB0Pg==)",
    '<iframe srcdoc="<script>parent.__xss=1</script>"></iframe>',
    '"><script>window.__xss=1</script>',
    '<a href="jav&#x09;ascript:window.__xss=1">tab</a>',
    "<math><mtext><table><mglyph><style><img src=x onerror=window.__xss=1>",
    "<details open ontoggle=window.__xss=1>",
    '<style>@import "/static/x.css"; body { display: none }</style>',
    '<div hx-get="/accounts/signup/" hx-trigger="load" hx-swap="outerHTML">htmx</div>',
    '<span hx-swap-oob="true" id="composer">hijacked</span>',
    '<button hx-on:click="window.__xss=1" hx-on::load="window.__xss=1">on</button>',
    '<form action="javascript:window.__xss=1"><button>go</button></form>',
    "</textarea><script>window.__xss=1</script>",
    "<object data=javascript:window.__xss=1></object>",
    r"$\href{javascript:window.__xss=1}{math link}$",  # KaTeX renders it as text (trust: false)
    r"$\htmlData{xss=1}{math data}$",
]


def problems_in(element: Element) -> list[str]:
    """Anything inside that could run or change the page: a tag outside the
    Markdown allowlist, an event handler, an htmx attribute, an inline style,
    or a link to anything but http(s)/mailto."""
    found = []
    for child in element.all():
        if child.tag not in ALLOWED_TAGS:
            found.append(f"<{child.tag}>")
        for name, value in child.attrs.items():
            if name.startswith("on") or name.startswith(("hx-", "data-hx-", "ws-")) or name in {"style", "id"}:
                found.append(f"<{child.tag} {name}>")
            if name in {"href", "src", "action", "formaction", "data", "srcdoc"}:
                scheme = "".join((value or "").split()).lower().partition(":")[0]
                if scheme not in {"http", "https", "mailto"}:
                    found.append(f"<{child.tag} {name}={value!r}>")
    return found


# --- units: the live frame and the final render ------------------------------


@pytest.mark.parametrize("payload", PAYLOADS)
def test_a_streamed_token_batch_is_text_only(payload):
    frame = parse_html(frames.tokens(Stream.answer(7), payload, "", count=1, elapsed_ms=0.0))

    [wrapper] = frame.children
    assert (wrapper.tag, wrapper.attrs) == ("span", {"id": "msg-7-tail", "hx-swap-oob": "beforeend"})
    assert wrapper.children == [payload], "escaped: arrives as the very same text, no markup"


@pytest.mark.parametrize("payload", PAYLOADS)
def test_an_agents_streamed_draft_is_text_only(payload):
    frame = parse_html(frames.tokens(Stream.agent(3), payload, "", count=5, elapsed_ms=120.0))

    body, stats = frame.children
    assert body.attrs["id"] == "agent-3-tail" and body.children == [payload]
    assert stats.attrs["id"] == "agent-3-stats" and stats.all() == []


@pytest.mark.parametrize("payload", PAYLOADS)
def test_the_finished_markdown_holds_nothing_executable(payload):
    assert problems_in(parse_html(render_markdown(f"Look: {payload} and more"))) == []


TAIL = '<span id="msg-7-tail" class="tail"></span>'


def without_the_tail(rendered: str) -> str:
    """A live rendering, less the one element of Muse's own it holds: the
    tail the next tokens are appended to."""
    assert rendered.count(TAIL) == 1, rendered
    return rendered.replace(TAIL, "")


@pytest.mark.parametrize("payload", PAYLOADS)
def test_a_live_rendering_holds_nothing_executable_at_any_length(payload):
    text = f"Look: {payload} and more"
    for end in range(1, len(text) + 1):  # every prefix a frame could render
        rendered = render_live(text[:end], Stream.answer(7).dom_id)
        assert problems_in(parse_html(without_the_tail(rendered))) == [], text[:end]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_a_rendering_frame_puts_the_rendering_in_the_body_and_the_text_as_text(payload):
    rendered = render_live(f"Look: {payload}", Stream.answer(7).dom_id)
    frame = parse_html(frames.tokens(Stream.answer(7), payload, without_the_tail(rendered), count=1,
                                     elapsed_ms=0.0))

    appended, wrapper = frame.children
    assert appended.children == [payload], "the text as text"
    assert (wrapper.tag, wrapper.attrs) == ("div", {"id": "msg-7-body", "hx-swap-oob": "innerHTML"})


def test_every_payload_at_once_holds_nothing_executable():
    assert problems_in(parse_html(render_markdown("\n\n".join(PAYLOADS)))) == []


@pytest.mark.django_db
@pytest.mark.parametrize("payload", PAYLOADS)
def test_a_finished_answer_frame_and_the_persons_message_hold_nothing_executable(user, payload):
    conversation = Conversation.objects.create(user=user)
    asked = Message.objects.create(conversation=conversation, author="user", content=payload)
    answer = Message.objects.create(conversation=conversation, author="assistant", status="done",
                                    content=f"You said: {payload}")

    answer_body = parse_html(frames.message(answer)).one("div", **{"class": "body markdown"})
    asked_body = parse_html(frames.messages_appended([asked])).one("div", **{"class": "body user-text"})

    assert problems_in(answer_body) == []
    assert asked_body.children == [payload], "shown exactly as typed, as text"


@pytest.mark.django_db
@pytest.mark.parametrize("payload", PAYLOADS)
def test_a_search_result_holds_only_text_and_marks(client, user, payload):
    Conversation.objects.create(user=user, title=f"{payload} walrus").messages.create(
        author="user", content=f"walrus {payload} walrus")
    client.force_login(user)

    results = parse_html(client.get("/search/", {"q": "walrus"}).content.decode()).one("ol")

    link = results.one("a")
    assert {(e.tag, tuple(e.attrs)) for e in link.all()} <= {("span", ("class",)), ("mark", ())}
    assert payload.split()[0] in link.text, "shown as text"


@pytest.mark.parametrize("payload", PAYLOADS)
def test_a_refused_message_is_given_back_as_text(payload):
    frame = parse_html(frames.rejected("Too fast.", "c1", payload))

    assert [e.tag for e in frame.children if isinstance(e, Element)] == ["div", "textarea", "div"]
    assert frame.one("textarea").children == [payload]


# --- end to end: a person sends them, the model streams them ------------------


HOSTILE_MESSAGE = "hostile please\n" + "\n".join(PAYLOADS)

# Everything in a message's text that could run or reach out; [] when safe.
def shown_as(payload: str) -> str:
    """The text a payload shows as once rendered (Markdown decodes an
    entity, say): the same while streaming as when finished."""
    return parse_html(render_markdown(payload)).text.strip()


FIND_PROBLEMS = """() => {
  // The one element of Muse's own in a streaming body: the tail the next tokens go to, text only.
  const isTail = (el, body) => el.matches("span.tail") && el.childElementCount === 0
      && el.id === body.id.replace(/-body$/, "-tail");
  const found = [];
  for (const body of document.querySelectorAll("#messages .body, #messages .agent-body")) {
    for (const el of body.querySelectorAll("*")) {
      const tag = el.tagName.toLowerCase();
      // KaTeX's own rendering (MathML, and styles set through the CSSOM) is
      // Muse's, not the model's; handlers and links are checked there too.
      const katex = el.closest(".katex, .katex-error") !== null;
      if (!katex && ["script", "iframe", "object", "embed", "style", "svg", "math", "img", "form", "details",
           "textarea", "link", "meta", "base"].includes(tag)) found.push(`<${tag}>`);
      if (katex && ["script", "iframe", "object", "embed", "img", "form", "a"].includes(tag)) found.push(`<${tag}>`);
      for (const attr of el.attributes) {
        const name = attr.name.toLowerCase();
        if (name.startsWith("on") || name.startsWith("hx-") || name.startsWith("data-hx-")
            || (name === "style" && !katex) || (name === "id" && !isTail(el, body))) found.push(`<${tag} ${name}>`);
        if (["href", "src", "action", "data", "srcdoc"].includes(name)
            && !/^(https?|mailto):/i.test(attr.value.replace(/\\s/g, ""))) found.push(`<${tag} ${name}=${attr.value}>`);
      }
    }
  }
  const composer = document.getElementById("composer");
  if (!composer || composer.tagName !== "FORM") found.push("the composer was replaced");
  return found;
}"""


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_hostile_markup_never_runs_while_streaming_or_after_a_reload(page, llm):
    # Long enough to look at the page mid-stream; several tokens per frame,
    # so a payload can arrive whole in one frame.
    reply = "\n\n".join(["Here they are:", *PAYLOADS, "Halfway there.", *PAYLOADS, *PAYLOADS])
    llm.script("hostile please", Reply(text=reply, token_delay=0.01))
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    sign_up(page, "eve")

    page.get_by_role("textbox", name="Message").fill(HOSTILE_MESSAGE)
    page.get_by_role("textbox", name="Message").press("Enter")
    answer = page.locator('article[data-author="assistant"]').last
    asked = page.locator('article[data-author="user"]').last

    expect(answer).to_contain_text("Halfway there.")
    streamed = answer.locator(".body").text_content()
    problems, xss = page.evaluate(FIND_PROBLEMS), page.evaluate("window.__xss")
    assert answer.get_attribute("data-status") == "streaming", "all of that was seen mid-stream"
    assert problems == []
    assert xss is None
    assert [p for p in PAYLOADS if shown_as(p) not in streamed] == [], "every payload shown as text"

    expect(answer).to_have_attribute("data-status", "done", timeout=30_000)
    expect(answer).to_contain_text("<object data=javascript:window.__xss=1></object>")
    expect(asked.locator(".body")).to_have_text(HOSTILE_MESSAGE)
    assert page.evaluate(FIND_PROBLEMS) == []
    assert page.evaluate("window.__xss") is None

    page.reload()
    expect(page.locator('article[data-author="assistant"]').last).to_have_attribute("data-status", "done")
    page.wait_for_timeout(500)  # give an onload/ontoggle/hx-trigger="load" its chance
    assert page.evaluate(FIND_PROBLEMS) == []
    assert page.evaluate("window.__xss") is None
    assert dialogs == []
