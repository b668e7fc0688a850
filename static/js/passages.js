// The concept document's passages: open a block's comments and amendments beside it
// (below it on a phone) with their replies, quote selected words, and keep counts and
// the open panel current from the study's live events (static/js/live.js hands each one over as a
// "dugnad:study-event"). The server renders every panel; this only fetches it.
(function () {
  "use strict";
  var root, openAnchor = null, refreshTimer = null, selected = null;

  function panelUrl(anchor, quote) {
    var url = root.getAttribute("data-panel-url").replace("ANCHOR", encodeURIComponent(anchor));
    return quote ? url + "?quote=" + encodeURIComponent(quote) : url;
  }

  var focused = null;

  // A reply form that is open or holds text moves into the fresh list as it is (its
  // text, its idempotency key), in place of the empty one the server sent; an item
  // that no longer takes replies (hidden, withdrawn) loses it with the rest.
  function keepOpenForms(current, items) {
    focused = null;
    current.querySelectorAll(".reply-form-wrap").forEach(function (wrap) {
      var field = wrap.querySelector("textarea");
      if (!wrap.open && !(field && field.value)) { return; }
      var replaced = items.querySelector("#" + wrap.id);
      if (!replaced) { return; }
      if (wrap.contains(document.activeElement)) { focused = document.activeElement; }
      replaced.replaceWith(wrap);
    });
    // So does an open flag or moderation form (static/js/moderation.js), while its
    // item keeps the state it was made for.
    current.querySelectorAll(".moderation-item-tools").forEach(function (tools) {
      var details = tools.querySelector("details");
      var item = tools.closest(".item");
      if (!details || !details.open || !item) { return; }
      var fresh = items.querySelector("#" + item.id);
      var slot = fresh && fresh.querySelector(":scope > .item-tools");
      if (!slot || fresh.getAttribute("data-state") !== tools.getAttribute("data-for-state")) { return; }
      if (tools.contains(document.activeElement)) { focused = document.activeElement; }
      slot.appendChild(tools);
    });
  }

  // The address names the open panel (?open=), as without JavaScript, so that a form
  // that returns to this page (a flag, a moderation action) finds it open again.
  function remember(anchor) {
    if (!window.history.replaceState || !window.URL) { return; }
    var url = new window.URL(window.location.href);
    if (anchor) { url.searchParams.set("open", anchor); } else { url.searchParams.delete("open"); }
    window.history.replaceState(window.history.state, "", url.pathname + url.search + url.hash);
  }

  // A first look fills the whole panel; a live refresh replaces only the list of
  // items, so an open form, what is typed in it and the focus stay as they are.
  function fetchPanel(anchor, quote, listOnly) {
    var panel = document.getElementById("panel-" + anchor);
    if (!panel) { return Promise.resolve(); }
    return window.fetch(panelUrl(anchor, quote), { credentials: "same-origin", headers: { "HX-Request": "true" } })
      .then(function (response) { return response.text(); })
      .then(function (html) {
        var current = panel.querySelector(".passage-items");
        if (listOnly && current) {
          var fresh = document.createElement("div");
          fresh.innerHTML = html;
          var items = fresh.querySelector(".passage-items");
          if (items) {
            keepOpenForms(current, items);
            current.replaceWith(items);
            if (window.htmx) { window.htmx.process(items); }
            if (focused && document.body.contains(focused)) { focused.focus(); }
          }
          return;
        }
        panel.innerHTML = html;
        if (window.htmx) { window.htmx.process(panel); }
      });
  }

  function setOpen(anchor, quote) {
    document.querySelectorAll(".doc-block.is-open").forEach(function (block) {
      if (block.getAttribute("data-anchor") === anchor) { return; }
      block.classList.remove("is-open");
      var panel = block.querySelector(".passage-panel");
      panel.hidden = true;
      panel.innerHTML = "";
      block.querySelector(".passage-open").setAttribute("aria-expanded", "false");
    });
    var block = document.getElementById(anchor);
    if (!block) { return; }
    var panel = block.querySelector(".passage-panel");
    var opener = block.querySelector(".passage-open");
    if (openAnchor === anchor && !quote) {
      block.classList.remove("is-open");
      panel.hidden = true;
      panel.innerHTML = "";
      opener.setAttribute("aria-expanded", "false");
      openAnchor = null;
      remember(null);
      return;
    }
    openAnchor = anchor;
    remember(anchor);
    block.classList.add("is-open");
    panel.hidden = false;
    opener.setAttribute("aria-expanded", "true");
    fetchPanel(anchor, quote).then(function () {
      var field = panel.querySelector(quote ? "textarea" : "h2");
      if (field) { if (!quote) { field.setAttribute("tabindex", "-1"); } field.focus(); }
    });
  }

  function refreshCounts() {
    window.fetch(root.getAttribute("data-counts-url"), { credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (result) {
        var counts = result.blocks || {};
        document.querySelectorAll(".doc-block").forEach(function (block) {
          var found = counts[block.getAttribute("data-anchor")] || {};
          block.querySelectorAll(".passage-count").forEach(function (el) {
            var value = String(found[el.getAttribute("data-count")] || 0);
            if (el.textContent !== value) { el.textContent = value; el.classList.add("count-new"); }
          });
        });
      });
  }

  // The items on passages no longer in the document come with the page (it is kept
  // per event and viewer, so asking for it again is cheap): a reply to one of them, or
  // a change to one, brings the list again, with open forms kept as in a panel.
  function goneItemOf(data) {
    var gone = document.querySelector(".gone-passages");
    var id = data.item_type === "comment" ? data.contribution_id : data.item_id;
    return gone && id ? gone.querySelector("#passage-item-" + id) : null;
  }

  function fetchGone() {
    return window.fetch(window.location.href, { credentials: "same-origin" })
      .then(function (response) { return response.text(); })
      .then(function (html) {
        var current = document.querySelector(".gone-passages");
        var fresh = new window.DOMParser().parseFromString(html, "text/html").querySelector(".gone-passages");
        if (!current || !fresh) { return; }
        keepOpenForms(current, fresh);
        current.replaceWith(fresh);
        if (window.htmx) { window.htmx.process(fresh); }
        if (focused && document.body.contains(focused)) { focused.focus(); }
      });
  }

  var goneStale = false;

  function onEvent(evt) {
    var data = (evt.detail && evt.detail.data) || {};
    if (goneItemOf(data)) { goneStale = true; }
    var document_item = data.kind === "passage" || data.kind === "amendment";
    if (!document_item && data.item_type !== "comment") { return; }
    // New items are announced politely, as on the study page (no list here to do it),
    // and so are replies to an item in the open panel (not to one in the list of items
    // whose passage is gone, which has the same ids).
    var lang = document.documentElement.lang || "nb";
    var region = document.getElementById("live-announcer");
    var openPanel = openAnchor && document.getElementById("panel-" + openAnchor);
    var reply_here = data.item_type === "comment" && openPanel &&
      openPanel.querySelector("#passage-item-" + data.contribution_id);
    if ((document_item || reply_here) && data.announce && region && !evt.detail.replay) {
      region.textContent = data.announce[lang] || "";
    }
    // Several events in a burst (a resume) bring one refresh.
    if (refreshTimer) { return; }
    refreshTimer = window.setTimeout(function () {
      refreshTimer = null;
      refreshCounts();
      if (openAnchor) { fetchPanel(openAnchor, null, true); }
      if (goneStale) { goneStale = false; fetchGone(); }
    }, 150);
  }

  function selectionIn() {
    var selection = window.getSelection();
    if (!selection || selection.isCollapsed) { return null; }
    var text = selection.toString().replace(/\s+/g, " ").trim();
    if (!text) { return null; }
    var node = selection.anchorNode && (selection.anchorNode.nodeType === 1 ? selection.anchorNode : selection.anchorNode.parentElement);
    var block = node && node.closest(".doc-block-text");
    var focus = selection.focusNode && (selection.focusNode.nodeType === 1 ? selection.focusNode : selection.focusNode.parentElement);
    if (!block || !focus || focus.closest(".doc-block-text") !== block) { return null; }
    return { anchor: block.parentElement.getAttribute("data-anchor"), text: text.slice(0, 1000) };
  }

  function onSelection() {
    selected = selectionIn();
    document.querySelectorAll(".passage-quote-button").forEach(function (button) {
      var anchor = button.closest(".doc-block").getAttribute("data-anchor");
      button.hidden = !(selected && selected.anchor === anchor);
    });
  }

  function start() {
    root = document.getElementById("study-live");
    if (!root || !root.getAttribute("data-counts-url")) { return; }
    document.addEventListener("dugnad:study-event", onEvent);
    // Past the replay limit live.js asks for the list again instead of the events.
    document.addEventListener("dugnad:study-reloaded", function () {
      refreshCounts();
      if (openAnchor) { fetchPanel(openAnchor, null, true); }
      if (document.querySelector(".gone-passages")) { fetchGone(); }
    });
    var initial = document.querySelector(".doc-block.is-open");
    if (initial) { openAnchor = initial.getAttribute("data-anchor"); }
    document.addEventListener("click", function (evt) {
      var opener = evt.target.closest && evt.target.closest(".passage-open");
      if (opener) {
        evt.preventDefault();
        setOpen(opener.closest(".doc-block").getAttribute("data-anchor"));
        return;
      }
      var quote = evt.target.closest && evt.target.closest(".passage-quote-button");
      if (quote && selected) {
        evt.preventDefault();
        setOpen(selected.anchor, selected.text);
      }
    });
    document.addEventListener("selectionchange", function () { window.setTimeout(onSelection, 0); });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
