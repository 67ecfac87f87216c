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
  function scrollToEnd(force) {
    var list = messages();
    if (!list) return;
    var scroller = list.closest(".conversation") || document.scrollingElement;
    if (force || nearBottom(scroller)) scroller.scrollTop = scroller.scrollHeight;
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
    scrollToEnd(true);
  }

  function setError(text) {
    var box = document.getElementById("composer-error");
    if (box) box.textContent = text;
  }

  document.addEventListener("keydown", function (event) {
    var box = messageBox();
    if (event.target !== box) return;
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      composer().requestSubmit();
    }
  });

  document.addEventListener("input", function (event) {
    var box = messageBox();
    if (event.target !== box) return;
    box.style.height = "auto";
    box.style.height = Math.min(box.scrollHeight, 240) + "px";
  });

  document.addEventListener("htmx:wsConfigSend", function (event) {
    var form = composer();
    if (!form || event.detail.elt !== form) return;
    var params = event.detail.parameters;
    var text = params.message || "";
    if (!text.trim()) {
      event.preventDefault();
      setError("Type a message first: an empty message cannot be sent.");
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
    box.focus();
  });

  document.addEventListener("htmx:wsOpen", function () {
    var state = document.getElementById("connection-state");
    if (state) { state.textContent = ""; state.dataset.state = "open"; }
  });
  document.addEventListener("htmx:wsClose", function (event) {
    var state = document.getElementById("connection-state");
    if (!state) return;
    // Muse's own refusals (4401 logged out, 4429 too many tabs) say why and
    // do not reconnect; anything else is a reconnect in progress.
    var closed = event.detail && event.detail.event;
    var refusal = closed && closed.code >= 4000 && closed.reason;
    state.textContent = refusal || "Reconnecting…";
    state.dataset.state = refusal ? "refused" : "closed";
  });

  document.addEventListener("htmx:wsAfterMessage", function () { scrollToEnd(false); });
  document.addEventListener("htmx:oobAfterSwap", function (event) {
    var target = event.detail && event.detail.target;
    if (target && target.id === "composer-error" && target.textContent.trim()) {
      // A refused message: pending bubbles are gone, the text is back.
      var box = messageBox();
      if (box) box.focus();
    }
  });

  // Copy buttons on code blocks in finished answers.
  function addCopyButtons(root) {
    (root.querySelectorAll ? root : document).querySelectorAll(".markdown pre").forEach(function (pre) {
      if (pre.querySelector(".copy")) return;
      var button = el("button", { type: "button", class: "copy", "aria-label": "Copy code" }, "Copy");
      button.addEventListener("click", function () {
        var code = pre.querySelector("code");
        var text = (code || pre).innerText;
        var done = function () { button.textContent = "Copied"; setTimeout(function () { button.textContent = "Copy"; }, 1500); };
        if (navigator.clipboard && window.isSecureContext) {
          navigator.clipboard.writeText(text).then(done, function () { button.textContent = "Copy failed"; });
        } else {
          var area = el("textarea", {}); area.value = text; document.body.appendChild(area);
          area.select(); try { document.execCommand("copy"); done(); } finally { area.remove(); }
        }
      });
      pre.appendChild(button);
    });
  }
  document.addEventListener("htmx:load", function (event) { addCopyButtons(event.detail.elt); });
  document.addEventListener("DOMContentLoaded", function () {
    addCopyButtons(document);
    scrollToEnd(true);
    var toggle = document.querySelector(".menu-toggle");
    if (toggle) toggle.addEventListener("click", function () {
      var open = document.body.classList.toggle("sidebar-open");
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
    });
    var main = document.querySelector(".conversation");
    if (main) main.addEventListener("click", function (event) {
      if (!document.body.classList.contains("sidebar-open") || event.target === toggle) return;
      document.body.classList.remove("sidebar-open");
      toggle.setAttribute("aria-expanded", "false");
    });
    var box = messageBox();
    if (box) box.focus();
  });
})();
