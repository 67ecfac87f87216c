// Attaching files: the paperclip, dropping files on the composer, pasting
// an image, pasting text longer than a message may be (it becomes a text
// file, whole). Each file uploads at once, with its progress, and comes
// back as the server's chip, which polls itself (htmx) while the file is
// read. A message waits for its files before it is sent.
(function () {
  "use strict";

  var waitingToSend = false;

  function composer() { return document.getElementById("composer"); }
  function tray() { return document.getElementById("attachment-tray"); }
  function chips() { var list = tray(); return list ? Array.prototype.slice.call(list.querySelectorAll(".chip")) : []; }
  function say(text) { var box = document.getElementById("composer-error"); if (box) box.textContent = text; }

  function sizeText(size) {
    if (size < 1000) return size + " bytes";
    if (size < 1000000) return Math.round(size / 1000) + " KB";
    return (size / 1000000).toFixed(1) + " MB";
  }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function csrfToken() {
    try { return JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"]; } catch (error) { return ""; }
  }

  function failed(chip, reason) {
    chip.dataset.status = "failed";
    var bar = chip.querySelector("progress");
    if (bar) bar.remove();
    chip.insertBefore(el("span", { class: "chip-error", role: "alert" }, reason), chip.querySelector(".chip-remove"));
    sendWhenReady();
  }

  function newChip(file) {
    var chip = el("li", { class: "chip", "data-status": "uploading" });
    chip.appendChild(el("span", { class: "chip-name" }, file.name));
    chip.appendChild(el("span", { class: "chip-size" }, sizeText(file.size)));
    var remove = el("button", { type: "button", class: "chip-remove", "aria-label": "Remove " + file.name,
                                title: "Remove " + file.name }, "×");
    chip.appendChild(remove);
    tray().appendChild(chip);
    return chip;
  }

  function upload(file, chip) {
    var form = composer();
    var bar = el("progress", { class: "chip-progress", max: "100", value: "0", "aria-label": "Uploading " + file.name });
    chip.insertBefore(bar, chip.querySelector(".chip-remove"));
    var request = new XMLHttpRequest();
    chip.querySelector(".chip-remove").addEventListener("click", function () {
      request.abort();
      chip.remove();
      sendWhenReady();
    });
    request.upload.addEventListener("progress", function (event) {
      if (event.lengthComputable) bar.value = Math.round(100 * event.loaded / event.total);
    });
    request.addEventListener("load", function () {
      if (request.status !== 201) {
        failed(chip, request.status === 413 ? file.name + " is too large to attach." :
          (request.responseText || file.name + " could not be attached.").slice(0, 300));
        return;
      }
      var holder = document.createElement("template");
      holder.innerHTML = request.responseText.trim();
      var served = holder.content.firstElementChild;
      chip.replaceWith(served);
      window.htmx.process(served);
      sendWhenReady();
    });
    request.addEventListener("error", function () {
      failed(chip, file.name + " could not be uploaded: check the connection, then attach it again.");
    });
    var data = new FormData();
    data.append("file", file, file.name);
    request.open("POST", form.dataset.uploadUrl);
    request.setRequestHeader("X-CSRFToken", csrfToken());
    request.send(data);
  }

  function attach(files) {
    var form = composer();
    if (!form || !tray()) return;
    var most = parseInt(form.dataset.maxFiles, 10), largest = parseInt(form.dataset.maxFileBytes, 10);
    Array.prototype.forEach.call(files, function (file) {
      if (chips().length >= most) { say("A message can carry at most " + most + " files."); return; }
      var chip = newChip(file);
      // Refused here, before a byte is sent; the server checks again.
      if (file.size > largest) {
        chip.querySelector(".chip-remove").addEventListener("click", function () { chip.remove(); sendWhenReady(); });
        failed(chip, file.name + " is " + sizeText(file.size) + ": a file can be at most " + sizeText(largest) + ".");
        return;
      }
      upload(file, chip);
    });
  }

  // Sending waits for every file to be uploaded and read; a file that
  // could not be attached must be removed first.
  function busy() { return chips().some(function (c) { return c.dataset.status === "uploading" || c.dataset.status === "reading"; }); }
  function sendWhenReady() {
    if (!waitingToSend || busy()) return;
    waitingToSend = false;
    var form = composer();
    if (form && !chips().some(function (c) { return c.dataset.status === "failed"; })) form.requestSubmit();
  }

  document.addEventListener("htmx:wsConfigSend", function (event) {
    var form = composer();
    if (!form || event.detail.elt !== form) return;
    var broken = chips().filter(function (c) { return c.dataset.status === "failed"; })[0];
    if (broken) {
      event.preventDefault();
      var name = broken.querySelector(".chip-name");
      say("Remove " + (name ? name.textContent : "the file that could not be attached") + " first: it cannot be sent.");
      return;
    }
    if (busy() && (event.detail.parameters.message || "").trim()) {
      event.preventDefault();
      waitingToSend = true;
      say("");
      var state = document.getElementById("live-status");
      if (state) state.textContent = "Sending once your files are ready…";
      form.dataset.waiting = "files";
      return;
    }
    delete form.dataset.waiting;
    var ids = event.detail.parameters.attachments;
    if (ids !== undefined && !Array.isArray(ids)) event.detail.parameters.attachments = [ids];
  });

  document.addEventListener("htmx:afterSwap", sendWhenReady);
  document.addEventListener("htmx:load", sendWhenReady);  // a polled chip replaces itself

  document.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest("#attach-button")) {
      var input = document.getElementById("attach-input");
      if (input) input.click();
    }
  });
  document.addEventListener("change", function (event) {
    if (event.target.id !== "attach-input") return;
    attach(event.target.files);
    event.target.value = "";
  });
  document.addEventListener("dragover", function (event) {
    var form = composer();
    if (!form || !form.contains(event.target) || !event.dataTransfer) return;
    if (Array.prototype.indexOf.call(event.dataTransfer.types, "Files") < 0) return;
    event.preventDefault();
    form.classList.add("dropping");
  });
  document.addEventListener("dragleave", function (event) {
    var form = composer();
    if (form && !form.contains(event.relatedTarget)) form.classList.remove("dropping");
  });
  document.addEventListener("drop", function (event) {
    var form = composer();
    if (!form || !form.contains(event.target) || !event.dataTransfer || !event.dataTransfer.files.length) return;
    event.preventDefault();
    form.classList.remove("dropping");
    attach(event.dataTransfer.files);
  });
  document.addEventListener("paste", function (event) {
    if (event.target.id !== "message-input" || !event.clipboardData) return;
    var images = Array.prototype.filter.call(event.clipboardData.files || [], function (f) { return f.type.indexOf("image/") === 0; });
    if (images.length) {
      event.preventDefault();
      attach(images);
      return;
    }
    var text = event.clipboardData.getData("text/plain");
    if (characters(text) > messageLimit() && roomForAFile()) {
      event.preventDefault();
      attachText(text);
    }
  });

  // Characters as the server counts them (code points, not UTF-16 units).
  function characters(text) {
    var count = text.length;
    for (var i = 0; i < text.length; i++) {
      var unit = text.charCodeAt(i);
      if (unit >= 0xD800 && unit <= 0xDBFF && i + 1 < text.length) {
        var next = text.charCodeAt(i + 1);
        if (next >= 0xDC00 && next <= 0xDFFF) { count--; i++; }
      }
    }
    return count;
  }
  function messageLimit() {
    var form = composer();
    return form ? parseInt(form.dataset.maxChars, 10) || Infinity : Infinity;
  }
  function roomForAFile() {
    var form = composer();
    return form && tray() && chips().length < parseInt(form.dataset.maxFiles, 10);
  }
  // Text too long for a message, kept whole as a text file on it: the model
  // reads it as it reads any attached text file.
  function attachText(text) {
    var name = "Pasted text (" + characters(text).toLocaleString() + " characters).txt";
    attach([new File([text], name, { type: "text/plain" })]);
  }

  window.MuseAttach = { characters: characters, text: attachText, roomForAFile: roomForAFile };
})();
