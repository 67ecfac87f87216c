// Muse's small bit of JavaScript: keyboard sending, optimistic bubbles,
// copy buttons and scrolling. Everything else is htmx and server HTML.
(function () {
  "use strict";

  function composer() { return document.getElementById("composer"); }
  function messageBox() { return document.getElementById("message-input"); }
  function messages() { return document.getElementById("messages"); }

  function nearBottom(el) {
    return el.scrollHeight - el.scrollTop - el.clientHeight < 120;
  }
  function scroller() { return document.getElementById("conversation-scroll"); }
  function scrollToEnd() {
    var area = scroller();
    if (area) area.scrollTop = area.scrollHeight;
  }

  // Every answer, quick or contemplated, follows one convention: the new
  // question is pinned at the top of the conversation and its answer grows
  // beneath it, read from its start (as ChatGPT and Claude do). The pin
  // holds until the person scrolls; room below the question (--answer-room)
  // lets it reach the top while the answer is short, and keeps the view
  // where it is when the drafts fold at the merge.
  var pin = null;  // since the last question asked on this page: {holding}
  var PIN_GAP = 12;
  function lastOf(selector) {
    var all = document.querySelectorAll(selector);
    return all[all.length - 1];
  }
  function questionTop(area, question) {
    var box = question.getBoundingClientRect(), view = area.getBoundingClientRect();
    var top = box.top - view.top + area.scrollTop - PIN_GAP;
    var most = area.clientHeight / 3;  // a long question shows its end, so the answer's start is in view too
    if (box.height > most) top += box.height - most;
    return Math.max(0, Math.round(top));
  }
  function makeRoom(area, top) {
    var last = lastOf("#messages article");
    if (!last) return;
    var end = last.getBoundingClientRect().bottom - area.getBoundingClientRect().top + area.scrollTop;
    var room = Math.max(0, Math.ceil(area.clientHeight - (end - top)));
    area.style.setProperty("--answer-room", room + "px");
  }
  function holdQuestion() {
    var area = scroller(), question = lastOf("#messages article[data-author='user']");
    if (!pin || !area || !question) return;
    var top = questionTop(area, question);
    makeRoom(area, top);
    if (pin.holding) area.scrollTop = top;
  }
  function pinNewQuestion() {
    pin = { holding: true };
    holdQuestion();
  }
  // The person scrolling (wheel, touch, the scroll bar, keys) lets go of the
  // pin; the page's own changes of height never do.
  var SCROLL_KEYS = /^(PageUp|PageDown|Home|End|ArrowUp|ArrowDown| )$/;
  function letGo() { if (pin) pin.holding = false; }
  function watchScrolling() {
    var area = scroller();
    if (!area) return;
    area.addEventListener("wheel", letGo, { passive: true });
    area.addEventListener("touchmove", letGo, { passive: true });
    area.addEventListener("mousedown", function (event) { if (event.target === area) letGo(); });
    document.addEventListener("keydown", function (event) {
      if (SCROLL_KEYS.test(event.key) && !typing(event.target)) letGo();
    });
    window.addEventListener("resize", holdQuestion);
  }

  function newClientId() {
    return Date.now().toString(36) + Math.random().toString(36).slice(2, 10);
  }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // Show the person's message and an empty answer at once; the server's
  // first frame replaces both with the saved ones.
  function insertPending(clientId, text) {
    var wrap = el("div", { id: "pending-" + clientId, class: "pending" });
    var user = el("article", { class: "message user", "data-author": "user", "data-pending": "true" });
    var ub = el("div", { class: "bubble" });
    ub.appendChild(el("div", { class: "body user-text" }, text));
    var state = document.getElementById("connection-state");
    if (state && state.dataset.state === "closed") {
      ub.appendChild(el("p", { class: "pending-label" }, "Waiting to send: it goes as soon as Muse reconnects."));
    }
    user.appendChild(ub);
    var answer = el("article", { class: "message assistant", "data-author": "assistant", "data-status": "pending", "aria-busy": "true", "data-pending": "true" });
    var ab = el("div", { class: "bubble" });
    ab.appendChild(el("div", { class: "body streaming typing" }, ""));
    answer.appendChild(ab);
    wrap.appendChild(user);
    wrap.appendChild(answer);
    messages().appendChild(wrap);
    var hint = document.getElementById("empty-hint");
    if (hint) hint.remove();
    pinNewQuestion();
  }

  function setError(text) {
    var box = document.getElementById("composer-error");
    if (box) box.textContent = text;
  }

  // Enter sends (the composer, a message being edited); Shift+Enter is a new line.
  document.addEventListener("keydown", function (event) {
    var target = event.target, edited = target.matches && target.matches(".edit-form textarea");
    var form = target === messageBox() ? composer() : (edited ? target.form : null);
    if (form && event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });

  document.addEventListener("input", function (event) {
    var box = messageBox();
    if (event.target !== box) return;
    box.style.height = "auto";
    box.style.height = Math.min(box.scrollHeight, 240) + "px";
    showCount();
  });

  // The message limit, said: a count near it ("20,500 / 20,000"), and past
  // it a way to send the text whole, as a text file (static/js/attach.js).
  // Nothing is ever cut: Send explains the limit instead.
  function messageLimit() {
    var form = composer();
    return form ? parseInt(form.dataset.maxChars, 10) || Infinity : Infinity;
  }
  function characters(text) {
    return window.MuseAttach ? window.MuseAttach.characters(text) : text.length;
  }
  function tooLong(length) {
    return "That message is " + length.toLocaleString() + " characters long; the limit is " +
      messageLimit().toLocaleString() + ". Shorten it or split it up, or attach it as a text file.";
  }
  function showCount() {
    var box = messageBox(), counter = document.getElementById("message-count");
    if (!box || !counter) return;
    var length = characters(box.value.trim()), limit = messageLimit();
    var near = length >= 0.9 * limit, over = length > limit;
    counter.hidden = !near;
    counter.dataset.over = over ? "true" : "false";
    document.getElementById("message-count-text").textContent = near ?
      length.toLocaleString() + " / " + limit.toLocaleString() : "";
    var asFile = counter.querySelector(".attach-text");
    asFile.hidden = !(over && window.MuseAttach && window.MuseAttach.roomForAFile());
  }
  document.addEventListener("click", function (event) {
    if (!(event.target.closest && event.target.closest("#message-count .attach-text"))) return;
    var box = messageBox();
    window.MuseAttach.text(box.value);
    box.value = "";
    box.style.height = "auto";
    setError("");
    showCount();
    box.focus();
  });

  document.addEventListener("htmx:wsConfigSend", function (event) {
    var form = composer();
    if (!form || event.detail.elt !== form || event.defaultPrevented) return;  // attach.js: files not ready
    var params = event.detail.parameters;
    var text = params.message || "";
    if (!text.trim()) {
      event.preventDefault();
      setError("Type a message first: an empty message cannot be sent.");
      return;
    }
    if (characters(text.trim()) > messageLimit()) {
      event.preventDefault();
      setError(tooLong(characters(text.trim())));
      showCount();
      return;
    }
    var clientId = newClientId();
    params.client_id = clientId;
    setError("");
    insertPending(clientId, text);
  });

  document.addEventListener("htmx:wsAfterSend", function (event) {
    var form = composer();
    if (!form || event.detail.elt !== form) return;
    var box = messageBox();
    box.value = "";
    box.style.height = "auto";
    showCount();
    box.focus();
  });

  document.addEventListener("htmx:wsOpen", function () {
    var state = document.getElementById("connection-state");
    if (state) { state.textContent = ""; state.dataset.state = "open"; }
    document.querySelectorAll(".pending-label").forEach(function (label) { label.textContent = "Sending…"; });
  });
  document.addEventListener("htmx:wsClose", function (event) {
    var state = document.getElementById("connection-state");
    if (!state) return;
    // Muse's own refusals (4401 logged out, 4429 too many tabs) say why and
    // do not reconnect; anything else is a reconnect in progress.
    var closed = event.detail && event.detail.event;
    var refusal = closed && closed.code >= 4000 && closed.reason;
    // The socket queues what is sent meanwhile and sends it on reconnecting.
    state.textContent = refusal || "Reconnecting… your message will be sent.";
    state.dataset.state = refusal ? "refused" : "closed";
    if (closed && closed.code === MESSAGE_TOO_BIG) takeBackPending();
  });
  // A frame over the server's byte limit is closed unread (1009): its
  // message was not sent, so it leaves no bubble and goes back in the box,
  // said as the message limit is.
  var MESSAGE_TOO_BIG = 1009;
  function takeBackPending() {
    var pending = document.querySelectorAll("#messages .pending"), last = pending[pending.length - 1];
    if (!last) return;
    var text = last.querySelector(".user-text").textContent, box = messageBox();
    last.remove();
    if (box && !box.value) box.value = text;
    setError(tooLong(characters(text.trim())));
    showCount();
  }

  // Agents' panels follow their newest text, as the page does, unless the
  // person has scrolled a panel up (the same near-bottom rule).
  var panelsPinned = {};
  function streamingPanels() { return document.querySelectorAll(".agent-body.streaming"); }
  document.addEventListener("htmx:wsBeforeMessage", function () {
    streamingPanels().forEach(function (body) { panelsPinned[body.id] = nearBottom(body); });
  });
  document.addEventListener("htmx:wsAfterMessage", function () {
    holdQuestion();
    streamingPanels().forEach(function (body) {
      if (panelsPinned[body.id] !== false) body.scrollTop = body.scrollHeight;
    });
  });
  document.addEventListener("htmx:oobAfterSwap", function (event) {
    var target = event.detail && event.detail.target;
    if (target && target.id === "composer-error" && target.textContent.trim()) {
      // A refused message: pending bubbles are gone, the text is back.
      var box = messageBox();
      if (box) box.focus();
      showCount();
    }
  });

  // Contemplation's progress: how many drafts are done (counted from the
  // panels as they change) and a running timer, counted on from the
  // server's figure so that the device's clock never matters.
  function updateProgress() {
    document.querySelectorAll(".contemplation[data-status='thinking']").forEach(function (section) {
      var done = section.querySelectorAll(".agent:not([data-status='thinking'])").length;
      var count = section.querySelector("[data-drafts-done]");
      if (count && count.textContent !== String(done)) count.textContent = String(done);
    });
  }
  function tickTimers() {
    document.querySelectorAll(".elapsed[data-elapsed]").forEach(function (timer) {
      if (timer.dataset.shownAt === undefined) timer.dataset.shownAt = String(performance.now());
      var seconds = parseFloat(timer.dataset.elapsed) + (performance.now() - parseFloat(timer.dataset.shownAt)) / 1000;
      timer.textContent = Math.floor(seconds) + " s";
    });
  }
  setInterval(tickTimers, 1000);

  // One quiet status region says what the latest answer is doing, so the
  // history itself need not be a live region.
  function answerState(article) {
    if (!article) return "";
    var status = article.dataset.status;
    if (status === "streaming" || status === "pending") {
      var section = article.querySelector(".contemplation[data-status='thinking']");
      if (section) {
        var done = section.querySelectorAll(".agent:not([data-status='thinking'])").length;
        return "Drafts " + done + " of " + section.querySelectorAll(".agent").length + " done";
      }
      return article.querySelector(".contemplation[data-status='merging']") ? "Writing the final answer…" : "Answering…";
    }
    if (article.querySelector(".comparison[data-comparison='ready']")) return "Two answers ready to compare";
    if (status === "done") return "Answer ready";
    if (status === "error") return "The answer failed";
    if (status === "stopped") return "Stopped";
    return "";
  }
  function announceState() {
    var region = document.getElementById("live-status");
    var list = messages();
    if (!region || !list) return;
    var answers = list.querySelectorAll("article[data-author='assistant']");
    var text = answerState(answers[answers.length - 1]);
    if (text && region.textContent !== text) region.textContent = text;
  }
  document.addEventListener("htmx:wsAfterMessage", function () { updateProgress(); announceState(); });
  document.addEventListener("htmx:afterSwap", announceState);

  // An empty chat's example prompts fill the message box (one also turns
  // Contemplating on, saved like a click on the switch).
  document.addEventListener("click", function (event) {
    var example = event.target.closest && event.target.closest(".example[data-prompt]");
    var box = messageBox();
    if (!example || !box) return;
    box.value = example.dataset.prompt;
    var toggle = document.getElementById("contemplate-switch");
    if (toggle && example.dataset.contemplate === "on" && !toggle.checked) {
      toggle.checked = true;
      toggle.dispatchEvent(new Event("change", { bubbles: true }));
    }
    box.focus();
  });

  // The composer's options: at phone width all but Contemplating wait behind
  // one button (muse.css); the merge menu's choice is described beside it.
  document.addEventListener("click", function (event) {
    var toggle = event.target.closest && event.target.closest("#options-toggle");
    if (toggle) toggle.setAttribute("aria-expanded", toggle.getAttribute("aria-expanded") === "true" ? "false" : "true");
  });
  document.addEventListener("change", function (event) {
    var about = document.getElementById("strategy-about");
    if (event.target.id !== "strategy-select" || !about) return;
    var chosen = event.target.selectedOptions[0];
    about.textContent = chosen ? chosen.title + "." : "";
  });

  // The phone's conversation drawer: a backdrop, Esc, and inert while
  // closed (so Tab never reaches links off-screen).
  var phone = window.matchMedia("(max-width: 720px)");
  function setUpDrawer() {
    var toggle = document.querySelector(".menu-toggle");
    var sidebar = document.getElementById("sidebar");
    if (!toggle || !sidebar) return;
    function show(open) {
      document.body.classList.toggle("sidebar-open", open);
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
      sidebar.inert = phone.matches && !open;
      if (open) { var first = sidebar.querySelector("a, button"); if (first) first.focus(); }
    }
    show(false);
    phone.addEventListener("change", function () { show(false); });
    toggle.addEventListener("click", function () { show(!document.body.classList.contains("sidebar-open")); });
    var backdrop = document.querySelector(".drawer-backdrop");
    if (backdrop) backdrop.addEventListener("click", function () { show(false); toggle.focus(); });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && document.body.classList.contains("sidebar-open")) { show(false); toggle.focus(); }
    });
  }

  // The Contemplating hint is shown once: from the first time the switch is
  // on until the next page.
  var HINT_SEEN = "muse.contemplatingHintSeen";
  function setUpHint() {
    var toggle = document.getElementById("contemplate-switch");
    var seen = false;
    try { seen = window.localStorage.getItem(HINT_SEEN) === "1"; } catch (e) { seen = false; }
    if (seen) document.body.classList.add("hint-seen");
    if (toggle) toggle.addEventListener("change", function () {
      if (toggle.checked) { try { window.localStorage.setItem(HINT_SEEN, "1"); } catch (e) { /* private mode */ } }
    });
  }

  // The browser tab's title follows the conversation's.
  document.addEventListener("htmx:oobAfterSwap", function (event) {
    var target = event.detail && event.detail.target;
    var shown = document.querySelector("main[data-conversation-id]");
    if (target && shown && target.id === "conversation-title-" + shown.dataset.conversationId) {
      document.title = document.getElementById(target.id).textContent.trim() + " · Muse";  // the new heading
    }
  });

  // Copying: the text to the clipboard, and "Copied" on the button for a moment.
  function copyText(text, button) {
    var label = button.dataset.label || (button.dataset.label = button.textContent);  // a second click finds "Copied"
    var done = function () { button.textContent = "Copied"; setTimeout(function () { button.textContent = label; }, 1500); };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () { button.textContent = "Copy failed"; });
    } else {
      var area = el("textarea", {}); area.value = text; document.body.appendChild(area);
      area.select(); try { document.execCommand("copy"); done(); } finally { area.remove(); }
    }
  }

  // A Copy button in each code block's header (museapp/streams/markdown.py),
  // beside the code rather than over it.
  function addCopyButtons(root) {
    (root.querySelectorAll ? root : document).querySelectorAll(".markdown .code-head").forEach(function (head) {
      if (head.querySelector(".copy")) return;
      var button = el("button", { type: "button", class: "copy", "aria-label": "Copy code" }, "Copy");
      button.addEventListener("click", function () {
        var code = head.parentNode.querySelector("pre");
        copyText(code ? code.innerText : "", button);
      });
      head.appendChild(button);
    });
  }
  // Copy under a message: its source (an answer's Markdown, a person's text).
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest(".copy-message");
    if (button) copyText(button.dataset.copy || "", button);
  });

  // "Edit" opens a sent message in place: "Save and send" starts a new
  // branch from it (action "edit" over the socket), "Cancel" closes it.
  function openEditor(button) {
    var article = button.closest("article");
    if (!article || article.querySelector(".edit-form")) return;
    var body = article.querySelector(".body"), actions = article.querySelector(".message-actions");
    var form = el("form", { class: "edit-form", "ws-send": "" });
    form.appendChild(el("input", { type: "hidden", name: "action", value: "edit" }));
    form.appendChild(el("input", { type: "hidden", name: "message_id", value: button.dataset.messageId }));
    var area = el("textarea", { name: "message", rows: "3", "aria-label": "Edit your message" });
    area.value = article.querySelector(".copy-message").dataset.copy;
    form.appendChild(area);
    var row = el("div", { class: "edit-actions" });
    var cancel = el("button", { type: "button" }, "Cancel");
    cancel.addEventListener("click", function () { form.remove(); body.hidden = false; actions.hidden = false; button.focus(); });
    row.appendChild(cancel);
    row.appendChild(el("button", { type: "submit", class: "primary" }, "Save and send"));
    form.appendChild(row);
    body.hidden = true; actions.hidden = true;
    body.after(form);
    window.htmx.process(form);
    area.focus();
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest(".edit-open");
    if (button) openEditor(button);
  });

  // A version picked, an answer regenerated or a question edited re-renders
  // the whole branch; focus goes back to the same place: the control of that
  // kind on the message at the same position (museapp/web/frames.py thread).
  var FOCUS_AFTER = {
    "Previous version": ["Previous version", "Next version"],
    "Next version": ["Next version", "Previous version"],
    "Regenerate": ["Stop", "Regenerate"],
    "Regenerate with Contemplating": ["Stop", "Regenerate"],
    "Regenerate quickly": ["Stop", "Regenerate"],
    "Save and send": ["Edit"]
  };
  var pressed = null;
  function labelOf(button) {
    return button ? (button.getAttribute("aria-label") || button.textContent.trim()) : "";
  }
  document.addEventListener("htmx:wsConfigSend", function (event) {
    var form = event.detail.elt, list = messages();
    var label = labelOf(event.detail.triggeringEvent && event.detail.triggeringEvent.submitter);
    if (!list || !form.closest || !list.contains(form) || !FOCUS_AFTER[label]) return;
    var articles = Array.prototype.slice.call(list.querySelectorAll("article"));
    pressed = { index: articles.indexOf(form.closest("article")), label: label, at: Date.now() };
    if (label !== "Previous version" && label !== "Next version") pin = { holding: true, at: null };  // a new answer: its question goes to the top
  });
  function restoreFocus() {
    var was = pressed;
    pressed = null;
    if (!was || Date.now() - was.at > 15000) return;
    var article = messages().querySelectorAll("article")[was.index];
    if (article) focusFirst(article.querySelectorAll("button:not([disabled])"), FOCUS_AFTER[was.label]);
  }
  // Focus the first of ``controls`` whose label comes earliest in ``labels``, or else the first.
  function focusFirst(controls, labels) {
    controls = Array.prototype.slice.call(controls);
    var wanted = labels.map(function (label) {
      return controls.filter(function (c) { return labelOf(c) === label; })[0];
    }).filter(Boolean)[0] || controls[0];
    if (wanted) wanted.focus();
  }

  // Keyboard shortcuts, listed in the dialog "?" opens (templates/chat/_shortcuts.html).
  function openShortcuts() {
    var dialog = document.getElementById("keyboard-shortcuts");
    if (dialog && !dialog.open) dialog.showModal();
  }
  document.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest(".open-shortcuts")) openShortcuts();
  });
  function typing(target) {
    return /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName) || target.isContentEditable;
  }
  function dialogOrDrawerOpen() {
    return document.querySelector("dialog[open]") || document.body.classList.contains("sidebar-open");
  }
  document.addEventListener("keydown", function (event) {
    var mod = event.ctrlKey || event.metaKey, key = (event.key || "").toLowerCase();
    var target = null;
    if (mod && !event.shiftKey && !event.altKey && key === "k") { event.preventDefault(); focusSearch(); return; }
    if (mod && event.shiftKey && key === "o") target = document.querySelector("#new-chat button");
    else if (mod && event.shiftKey && key === "c") target = lastOf("#messages article[data-author='assistant'] .copy-message");
    else if (key === "escape" && !dialogOrDrawerOpen() && event.target !== searchBox()) target = lastOf("#messages article[data-status='streaming'] button.stop");
    else if (key === "arrowup" && event.target === messageBox() && !messageBox().value) {
      target = lastOf("#messages article[data-author='user'] .edit-open");
    }
    else if (event.key === "?" && !mod && !typing(event.target)) { event.preventDefault(); openShortcuts(); return; }
    if (!target) return;
    event.preventDefault();
    target.click();
  });
  // Ctrl/Cmd+K: "Search conversations", in the drawer on a phone (opened first).
  function searchBox() { return document.getElementById("search-box"); }
  function focusSearch() {
    var box = searchBox(), toggle = document.querySelector(".menu-toggle");
    if (!box) return;
    if (phone.matches && !document.body.classList.contains("sidebar-open") && toggle) toggle.click();
    box.focus();
    box.select();
  }

  // A search result opens its conversation at the message found (?m=<id>,
  // museapp/search): the page scrolls to it and marks it, and keeps the mark
  // when a live frame re-renders it.
  var FOUND = /^[0-9]+$/.test(new URLSearchParams(window.location.search).get("m") || "")
    ? new URLSearchParams(window.location.search).get("m") : null;
  function markFound() {
    var article = FOUND && document.querySelector("#messages article[data-message-id='" + FOUND + "']");
    if (article) article.setAttribute("data-found", "true");
    return article;
  }
  document.addEventListener("htmx:oobAfterSwap", function () { markFound(); });

  // A fold or panel the person opened stays open when its answer is
  // rendered again (the catch-up after a reload or a reconnect, a retried
  // agent finishing): only what they opened, so the drafts still fold when
  // the merge starts.
  function foldKey(details) {
    if (details.id) return "#" + details.id;
    var same = details.closest("article").querySelectorAll("details." + details.classList[0]);
    return details.classList[0] + ":" + Array.prototype.indexOf.call(same, details);
  }
  document.addEventListener("click", function (event) {
    var summary = event.target.closest && event.target.closest("article.message details > summary");
    if (!summary) return;
    // Marked at once, before the click toggles it: a frame that re-renders
    // the answer right after the click still finds the mark.
    var details = summary.parentElement;
    details.dataset.personOpened = details.open ? "" : "yes";
  });
  var openedIn = null;
  document.addEventListener("htmx:oobBeforeSwap", function (event) {
    var target = event.detail && event.detail.target;
    openedIn = target && target.tagName === "ARTICLE" && target.id ? {
      id: target.id,
      keys: Array.prototype.map.call(target.querySelectorAll('details[data-person-opened="yes"]'), foldKey),
    } : null;
  });
  document.addEventListener("htmx:oobAfterSwap", function (event) {
    var was = openedIn, swapped = was && document.getElementById(was.id);
    openedIn = null;
    if (!swapped || !was.keys.length) return;
    swapped.querySelectorAll("details").forEach(function (details) {
      if (details.classList.length && was.keys.indexOf(foldKey(details)) >= 0) {
        details.open = true;
        details.dataset.personOpened = "yes";
      }
    });
  });

  // A conversation moving to the top of Today (chat/_conversation_moved.html)
  // leaves its old place in the list, if the list has loaded it.
  document.addEventListener("htmx:oobBeforeSwap", function (event) {
    var target = event.detail && event.detail.target, fragment = event.detail && event.detail.fragment;
    if (!target || target.id !== "group-today" || !fragment) return;
    fragment.querySelectorAll("li.conversation-item[id]").forEach(function (item) {
      var old = document.getElementById(item.id);
      if (old) old.remove();
    });
  });

  // A message re-rendered in place (an answer that ends, a draft panel that
  // finishes) would drop a focus held inside it onto the page's body. Focus
  // goes to the same control in the new rendering, or else to what comes
  // next for that message: Retry, Merge what's there, Copy, Regenerate.
  var FOCUS_NEXT = ["Retry", "Merge what's there", "Copy", "Regenerate"];
  var heldIn = null;
  document.addEventListener("htmx:oobBeforeSwap", function (event) {
    var target = event.detail && event.detail.target, active = document.activeElement;
    var message = target && target.id && /^(ARTICLE|DETAILS)$/.test(target.tagName);
    heldIn = message && active && active !== target && target.contains(active)
      ? { id: target.id, label: labelOf(active) } : null;
  });
  function keepFocus(id) {
    var was = heldIn, active = document.activeElement;
    heldIn = null;
    if (!was || was.id !== id || (active && active !== document.body)) return;
    var swapped = document.getElementById(id);
    if (swapped) focusFirst(swapped.querySelectorAll("button:not([disabled]), summary"), [was.label].concat(FOCUS_NEXT));
  }
  document.addEventListener("htmx:oobAfterSwap", function (event) {
    var target = event.detail && event.detail.target;
    if (!target || !target.id) return;
    if (target.id === "messages") restoreFocus();
    keepFocus(target.id);
    var swapped = document.getElementById(target.id);  // a live rendering, a finished answer
    if (!swapped) return;  // deleted
    addCopyButtons(swapped);
    renderMath(swapped);
  });
  // Math in finished answers: TeX source from the server (museapp/streams/
  // markdown.py), rendered here with KaTeX's DOM rendering. Links, \htmlData
  // and the like stay off (trust: false), sizes and macro expansion are
  // capped, and whatever KaTeX cannot render stays as its source. A stream's
  // math stays plain until the answer is done.
  var MATH_MAX_CHARS = 4000;
  function renderMath(root) {
    if (!window.katex) return;
    (root.querySelectorAll ? root : document).querySelectorAll(".markdown .math-inline, .markdown .math-display").forEach(function (node) {
      if (node.dataset.rendered || node.closest(".streaming")) return;
      var source = node.textContent;
      node.dataset.rendered = "true";
      if (source.length > MATH_MAX_CHARS) return;
      var display = !node.classList.contains("math-inline") || node.classList.contains("math-display-inline");
      try {
        window.katex.render(source, node, { displayMode: display, throwOnError: false, trust: false,
                                            strict: "ignore", maxSize: 20, maxExpand: 200 });
      } catch (error) {
        node.textContent = source;  // too deep to render: shown as written
      }
    });
  }
  document.addEventListener("htmx:load", function (event) { addCopyButtons(event.detail.elt); renderMath(event.detail.elt); });
  // The sidebar's date headings (Today, Yesterday…) follow the person's own
  // time zone: the server reads it from this cookie (museapp/web/views.py).
  function rememberTimeZone() {
    try {
      var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
      if (zone) document.cookie = "tz=" + zone + "; path=/; max-age=31536000; SameSite=Lax";
    } catch (error) { /* no Intl: the server's time zone it is */ }
  }
  document.addEventListener("DOMContentLoaded", function () {
    rememberTimeZone();
    addCopyButtons(document);
    renderMath(document);
    var found = markFound();
    watchScrolling();
    if (found) found.scrollIntoView({ block: "center" });
    else if ((lastOf("#messages article[data-author='assistant']") || {}).ariaBusy === "true") pinNewQuestion();  // an answer still coming
    else scrollToEnd();
    setUpDrawer();
    setUpHint();
    var current = document.querySelector(".conversation-item.current");
    if (current) current.scrollIntoView({ block: "nearest" });
    var box = messageBox();
    if (box) box.focus({ preventScroll: Boolean(found) });
  });
})();
