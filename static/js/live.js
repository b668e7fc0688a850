// The live study page: one socket per page, events applied idempotently,
// nothing missed after a reconnect. No inline scripts (CSP); the server
// re-checks every action these controls start.
(function () {
  "use strict";

  var root, strings, lang, lastSeq = 0, seen = {}, resumed = false, buffer = [];
  var socket = null, attempt = 0, reconnectTimer = null, gapTimer = null, gone = false;
  // Gap handling: the newest event number the server told us of (presence),
  // how many resumes in a row a gap has cost, and whether one is unanswered.
  var knownSeq = 0, gapAttempts = 0, resumePending = false;
  var reacted = {};

  // --- small helpers ---------------------------------------------------------
  function text(name) { return strings ? (strings.getAttribute("data-" + name) || "") : ""; }

  function setStatus(state, message) {
    var el = document.getElementById("live-status");
    if (!el) { return; }
    el.setAttribute("data-state", state);
    el.textContent = message;
  }

  function announce(message) {
    var region = document.getElementById("live-announcer");
    if (!region || !message) { return; }
    region.textContent = "";
    window.setTimeout(function () { region.textContent = message; }, 50);
  }

  function revisionOf(el) { return parseInt(el.getAttribute("data-revision") || "0", 10) || 0; }

  function parse(html) {
    var template = document.createElement("template");
    template.innerHTML = (html || "").trim();
    return template.content.firstElementChild;
  }

  function localized(map, fallback) {
    if (map && typeof map === "object" && map[lang]) { return map[lang]; }
    return fallback;
  }

  function process(el) { if (window.htmx && el) { window.htmx.process(el); } }

  // A page filtered by section or kind (?section=…&kind=…) inserts only matching contributions.
  function matchesFilter(data) {
    var section = root.getAttribute("data-filter-section") || "";
    var kind = root.getAttribute("data-filter-kind") || "";
    if (section && String(data.section_id || "") !== section) { return false; }
    if (kind && data.kind !== kind) { return false; }
    return true;
  }

  // --- applying one item (live event, replay, or the poster's own response) ---
  function isNew(event) { return /\.(created|published)$/.test(event.kind || ""); }

  // --- the window: counts of what it leaves out, and contributions outside it ---------
  // "Show all N comments" (contribution-<id>-more) and "N replies: show"
  // (comment-<id>-more) name in data-ids the published comments they count:
  // every comment event updates the set, so the count stays exact whether or
  // not the comment is on the page.
  function moreId(container) { return (container || "").replace(/-(comments|replies)$/, "-more"); }

  var countedRevision = {};

  function recount(data) {
    if (data.item_type !== "comment" || !/-(comments|replies)$/.test(data.container || "")) { return; }
    var control = document.getElementById(moreId(data.container));
    if (!control) { return; }
    // Events of one item may arrive out of order: only the newest revision counts.
    var seenRevision = countedRevision[data.item_id] || 0;
    if ((data.revision || 0) < seenRevision) { return; }
    countedRevision[data.item_id] = data.revision || 0;
    var ids = (control.getAttribute("data-ids") || "").split(" ").filter(Boolean);
    var id = String(data.item_id);
    var at = ids.indexOf(id);
    var counted = !data.remove && data.state === "published";
    if (counted && at < 0) { ids.push(id); } else if (!counted && at >= 0) { ids.splice(at, 1); } else { return; }
    control.setAttribute("data-ids", ids.join(" "));
    var name = control.classList.contains("more-replies") ? "replies" : "all-comments";
    var label = ids.length === 1 ? text(name + "-one") : text(name + "-many").replace("{n}", String(ids.length));
    var link = control.querySelector("a");
    if (link && label) { link.textContent = label; }
  }

  // New contributions this page does not show (an older window, or a filter they
  // do not match): a bar "N new contributions: show" that opens the newest page.
  var arrivals = {}, arrivalsUnmatched = false;

  function arrived(key, matches) {
    if (arrivals[key]) { return; }
    arrivals[key] = true;
    if (!matches) { arrivalsUnmatched = true; }
    showArrivals();
  }

  function showArrivals() {
    var bar = document.getElementById("new-contributions");
    if (!bar) { return; }
    var link = bar.querySelector("a");
    var count = Object.keys(arrivals).length;
    bar.hidden = count === 0;
    if (!count) { return; }
    link.textContent = count === 1 ? text("new-one") : text("new-many").replace("{n}", String(count));
    if (arrivalsUnmatched && link.getAttribute("data-unfiltered")) {
      link.setAttribute("href", link.getAttribute("data-unfiltered"));
    }
  }

  function apply(event, options) {
    var data = event.data || {};
    // Other kinds of item on the page (polls: static/js/polls.js) listen for every event.
    document.dispatchEvent(new CustomEvent("dugnad:study-event", { detail: event }));
    if (!event.key) { return; }
    var existing = document.getElementById(event.key);
    var revision = data.revision || 0;
    recount(data);
    if (data.remove) {
      if (existing && revisionOf(existing) < revision) { existing.remove(); }
      return;
    }
    var html = localized(data.html_alt, event.html);
    if (!html) { return; }
    var fresh = parse(html);
    if (!fresh || fresh.id !== event.key) { return; }
    if (existing) {
      if (revisionOf(existing) >= revision) { return; }
      // Replace what the item shows; keep its tools, open forms and children.
      var oldContent = existing.querySelector(":scope > .item-content");
      var newContent = fresh.querySelector(":scope > .item-content");
      if (oldContent && newContent) { oldContent.replaceWith(newContent); }
      Array.prototype.forEach.call(fresh.attributes, function (attr) {
        if (attr.name === "class" || attr.name.indexOf("data-") === 0) {
          existing.setAttribute(attr.name, attr.value);
        }
      });
      decorate(existing);
      return;
    }
    // Only a new item is inserted: a change to one this window leaves out
    // (an older comment, a reply behind "N replies") has nothing to replace.
    if (!isNew(event)) { return; }
    if (data.item_type === "contribution" && (!matchesFilter(data) || root.getAttribute("data-before"))) {
      arrived(event.key, matchesFilter(data));
      if (options && options.announce) { announce(localized(data.announce, "")); }
      return;
    }
    var container = document.getElementById(data.container);
    if (!container) { return; } // its parent is not on this page (an older page not loaded)
    if (data.position === "prepend") {
      container.insertBefore(fresh, container.firstChild);
    } else {
      var loadMore = container.querySelector(":scope > .load-more");
      container.insertBefore(fresh, loadMore);
    }
    // Replies behind "N replies: show" stay out of sight until it is pressed.
    if (container.classList.contains("replies") && document.getElementById(moreId(data.container))) {
      container.hidden = true;
    }
    fresh.classList.add("item-new");
    process(fresh);
    decorateAll(fresh);
    var empty = document.getElementById("no-contributions");
    if (empty && data.item_type === "contribution") { empty.remove(); }
    if (options && options.announce) { announce(localized(data.announce, "")); }
  }

  // --- the stream ------------------------------------------------------------------
  function take(message) {
    if (message.seq <= lastSeq || seen[message.seq]) { return; }
    apply(message, { announce: true });
    seen[message.seq] = true;
    while (seen[lastSeq + 1]) { delete seen[lastSeq + 1]; lastSeq += 1; }
    if (behind()) { scheduleGapCheck(); } else { gapAttempts = 0; }
  }

  function behind() { return Object.keys(seen).length > 0 || knownSeq > lastSeq; }

  // Events from two workers may arrive out of order, so a gap is given time to
  // close by itself: 2-4 s at random (pages spread out instead of asking
  // together), doubling while gaps keep needing a resume, and never a second
  // resume while one is unanswered.
  function scheduleGapCheck() {
    if (gapTimer || resumePending) { return; }
    var delay = Math.min(30000, (2000 + Math.random() * 2000) * Math.pow(2, gapAttempts));
    gapTimer = window.setTimeout(function () {
      gapTimer = null;
      if (!behind() || resumePending || !resumed) { return; }
      gapAttempts += 1;
      resumePending = true;
      send({ type: "resume", after: lastSeq });
    }, delay);
  }

  function send(message) {
    if (socket && socket.readyState === 1) { socket.send(JSON.stringify(message)); }
  }

  function handle(raw) {
    var message;
    try { message = JSON.parse(raw.data); } catch (e) { return; }
    if (!message || typeof message !== "object") { return; }
    switch (message.type) {
      case "event":
        // A resume sends items as they are now (message.replay), one per item:
        // applied at once by revision; its numbers are settled by "resumed".
        if (message.replay) { apply(message, { announce: true }); break; }
        if (!resumed) { buffer.push(message); } else { take(message); }
        break;
      case "resumed":
        resumePending = false;
        var pending = buffer;
        buffer = [];
        resumed = true;
        pending.sort(function (a, b) { return a.seq - b.seq; });
        pending.forEach(take);
        if (typeof message.seq === "number" && message.seq > lastSeq) {
          lastSeq = message.seq;
          Object.keys(seen).forEach(function (s) { if (+s <= lastSeq) { delete seen[s]; } });
        }
        if (behind()) { scheduleGapCheck(); } else { gapAttempts = 0; }
        setStatus("live", text("live"));
        break;
      case "reload":
        resumePending = false;
        reloadList();
        break;
      case "presence":
        showViewers(message.data && message.data.viewers);
        // The study's newest event number: a page that missed the last
        // broadcast (Redis restarted, say) catches up without a new event.
        if (message.data && typeof message.data.seq === "number" && message.data.seq > knownSeq) {
          knownSeq = message.data.seq;
          if (resumed && behind()) { scheduleGapCheck(); }
        }
        break;
      case "error":
        resumePending = false;
        if (message.code === "unknown_event") { reloadList(); }
        break;
    }
  }

  function accessEnded() {
    window.clearTimeout(reconnectTimer);
    window.clearTimeout(gapTimer);
    setStatus("ended", text("access-ended"));
    var note = document.getElementById("live-access-ended");
    if (!note) {
      note = document.createElement("p");
      note.id = "live-access-ended";
      note.className = "ds-alert message message-error";
      note.dataset.color = "danger";
      note.setAttribute("role", "alert");
      root.insertBefore(note, root.firstChild);
    }
    note.textContent = text("access-ended");
  }

  function showViewers(count) {
    var el = document.getElementById("viewer-count");
    if (!el || typeof count !== "number" || count < 1) { return; }
    el.textContent = count === 1 ? text("viewers-one") : text("viewers-many").replace("{n}", String(count));
    el.hidden = false;
  }

  function reloadList() {
    setStatus("reloading", text("reloading"));
    resumed = false;
    buffer = [];
    window.fetch(root.getAttribute("data-list-url"), {
      headers: { "HX-Request": "true" },
      credentials: "same-origin"
    }).then(function (response) {
      if (!response.ok) { throw new Error(String(response.status)); }
      var seq = parseInt(response.headers.get("X-Dugnad-Last-Seq") || "0", 10) || 0;
      return response.text().then(function (html) { return { html: html, seq: seq }; });
    }).then(function (result) {
      var list = document.getElementById("contributions");
      // A page without the list (the concept document) refreshes its own parts.
      if (list) {
        list.innerHTML = result.html;
        process(list);
        decorateAll(list);
        // The list is the newest window now: what it shows leaves the bar.
        root.removeAttribute("data-before");
        Object.keys(arrivals).forEach(function (key) {
          if (document.getElementById(key)) { delete arrivals[key]; }
        });
        showArrivals();
      }
      document.dispatchEvent(new CustomEvent("dugnad:study-reloaded"));
      lastSeq = result.seq;
      seen = {};
      send({ type: "resume", after: lastSeq });
    }).catch(function () {
      setStatus("offline", text("offline"));
      if (socket) { socket.close(); }
    });
  }

  function connect() {
    if (gone) { return; }
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    resumed = false;
    buffer = [];
    setStatus("connecting", text("connecting"));
    socket = new WebSocket(scheme + window.location.host + root.getAttribute("data-ws-path"));
    socket.addEventListener("open", function () {
      attempt = 0;
      resumePending = false;
      send({ type: "resume", after: lastSeq });
    });
    socket.addEventListener("message", handle);
    socket.addEventListener("close", function (event) {
      socket = null;
      resumed = false;
      if (event.code === 4404) { gone = true; setStatus("offline", text("offline")); return; }
      // Access ended (made members-only, left, blocked, deactivated): say so, never reconnect.
      if (event.code === 4403) { gone = true; accessEnded(); return; }
      setStatus("offline", text("offline"));
      var delay = Math.min(30000, 500 * Math.pow(2, attempt)) * (0.5 + Math.random() / 2);
      attempt += 1;
      window.clearTimeout(reconnectTimer);
      reconnectTimer = window.setTimeout(connect, delay);
    });
  }

  // --- per-viewer controls inside .item-tools --------------------------------------
  function button(label, attrs) {
    var b = document.createElement("button");
    b.type = "button";
    b.className = "ds-button button small secondary";
    b.textContent = label;
    Object.keys(attrs).forEach(function (name) { b.setAttribute(name, attrs[name]); });
    return b;
  }

  // What only fetches (a form, earlier versions) is a link, as the server renders it.
  function link(label, url, target) {
    var a = document.createElement("a");
    a.className = "ds-button button small secondary";
    a.textContent = label;
    a.setAttribute("href", url);
    a.setAttribute("hx-get", url);
    a.setAttribute("hx-target", target);
    return a;
  }

  function decorate(item) {
    var tools = item.querySelector(":scope > .item-tools");
    var slot = item.querySelector(":scope > .item-form-slot");
    if (!tools || !slot) { return; }
    var type = item.getAttribute("data-item-type");
    var id = item.getAttribute("data-item-id");
    var state = item.getAttribute("data-state");
    var key = item.id;
    var count = item.getAttribute("data-reactions") || "0";
    // A decided amendment takes no support, edit or withdrawal (the server refuses them).
    var decided = item.getAttribute("data-decided") === "true";
    var signature = [state, count, reacted[key] ? 1 : 0, item.getAttribute("data-edited"), decided ? 1 : 0].join("|");
    var own = tools.querySelector(":scope > .live-item-tools");
    if (own && own.getAttribute("data-signature") === signature) { return; }
    if (own && own.contains(document.activeElement)) { return; }
    if (own) { own.remove(); }
    own = document.createElement("span");
    own.className = "live-item-tools";
    own.setAttribute("data-signature", signature);
    var base = root.getAttribute("data-base-url");
    var canContribute = root.getAttribute("data-can-contribute") === "true";
    var canModerate = root.getAttribute("data-can-moderate") === "true";
    var isAuthor = root.getAttribute("data-viewer-id") !== "" &&
      item.getAttribute("data-author-id") === root.getAttribute("data-viewer-id");
    var itemUrl = base + (type === "contribution" ? "contributions/" : "comments/") + id + "/";
    var slotTarget = "#" + key + " > .item-form-slot";
    if (canContribute && state === "published") {
      if (type === "contribution") {
        own.appendChild(link(text("comment"), base + "contributions/" + id + "/comments/form/", slotTarget));
      } else if (!item.getAttribute("data-parent-id") && item.getAttribute("data-official") !== "true") {
        own.appendChild(link(text("reply"), base + "contributions/" + item.getAttribute("data-contribution-id") +
          "/comments/form/?parent=" + id, slotTarget));
      }
    }
    // Nobody supports their own amendment.
    if (canContribute && state === "published" && !decided &&
        !(isAuthor && item.getAttribute("data-kind") === "amendment")) {
      var react = button((reacted[key] ? text("unreact") : text("react")) + " (" + count + ")", {
        "hx-post": itemUrl + "react/", "hx-swap": "outerHTML",
        "aria-pressed": reacted[key] ? "true" : "false"
      });
      react.classList.add("react-button");
      own.appendChild(react);
    }
    if (canContribute && isAuthor && !decided && (state === "published" || state === "pending")) {
      own.appendChild(link(text("edit"), itemUrl + "edit/", slotTarget));
      own.appendChild(button(text("withdraw"), {
        "hx-post": itemUrl + "withdraw/", "hx-target": slotTarget, "hx-confirm": text("withdraw-confirm")
      }));
    }
    if (canModerate && item.getAttribute("data-edited") === "true") {
      own.appendChild(link(text("history"), itemUrl + "history/", slotTarget));
    }
    if (own.childNodes.length) {
      tools.insertBefore(own, tools.firstChild);
      process(own);
    }
  }

  function decorateAll(scope) {
    if (scope.matches && scope.matches(".item[data-item-type]")) { decorate(scope); }
    scope.querySelectorAll(".item[data-item-type]").forEach(decorate);
  }

  // --- htmx glue --------------------------------------------------------------------
  function applyTemplates(scope) {
    (scope || document).querySelectorAll("template.live-apply").forEach(function (t) {
      var event;
      try { event = JSON.parse(t.getAttribute("data-event")); } catch (e) { event = null; }
      t.remove();
      if (event) { apply(event, { announce: false }); }
    });
  }

  var stashed = null;

  function wire() {
    // Refusals (invalid form, closed study, too many posts) come as readable fragments.
    document.body.addEventListener("htmx:beforeSwap", function (evt) {
      var status = evt.detail.xhr.status;
      if (status === 403 || status === 409 || status === 422 || status === 429) {
        evt.detail.shouldSwap = true;
        evt.detail.isError = false;
      }
      // "Show all N comments" and "N replies" replace a list: keep the live arrivals it does not know yet.
      var target = evt.detail.target;
      if (target && target.classList && (target.classList.contains("comments") || target.classList.contains("replies"))) {
        stashed = { target: target, items: Array.prototype.slice.call(target.children) };
      }
    });
    document.body.addEventListener("htmx:afterSwap", function (evt) {
      var target = evt.detail.target;
      if (stashed && stashed.target === target) {
        stashed.items.forEach(function (el) { if (el.id && !document.getElementById(el.id)) { target.appendChild(el); } });
        stashed = null;
        target.hidden = false;
      }
      document.querySelectorAll(".react-button[aria-pressed]").forEach(function (b) {
        var item = b.closest(".item[data-item-type]");
        if (item) { reacted[item.id] = b.getAttribute("aria-pressed") === "true"; }
      });
      applyTemplates(document);
      decorateAll(document.getElementById("contributions") || document);
      var focusable = target && target.querySelector && target.querySelector("textarea, input:not([type=hidden])");
      if (focusable && target.closest(".item-form-slot")) { focusable.focus(); }
    });
    // A server error or a lost connection swaps nothing: say so by the form. A form
    // with text keeps it (and its idempotency key, so a second try posts once).
    function requestFailed(evt) {
      var elt = evt.detail.elt;
      var form = elt && elt.closest ? elt.closest("form") : null;
      var typed = form && form.querySelector("textarea, input[type=text]");
      var message = strings && strings.getAttribute(typed ? "data-failed" : "data-refused");
      if (!message) { return; }
      if (form) {
        var note = form.querySelector(".request-failed");
        if (!note) {
          note = document.createElement("p");
          note.className = "ds-alert message message-error refusal request-failed";
          note.dataset.color = "danger";
          note.setAttribute("role", "alert");
          form.insertBefore(note, form.firstChild);
        }
        note.textContent = message;
      } else {
        announce(message);
      }
    }
    document.body.addEventListener("htmx:responseError", requestFailed);
    document.body.addEventListener("htmx:sendError", requestFailed);
    document.body.addEventListener("htmx:beforeRequest", function (evt) {
      var elt = evt.detail.elt;
      var form = elt && elt.closest ? elt.closest("form") : null;
      var note = form && form.querySelector(".request-failed");
      if (note) { note.remove(); }
    });
    document.body.addEventListener("htmx:afterRequest", function (evt) {
      var elt = evt.detail.elt;
      var hide = elt && elt.getAttribute && elt.getAttribute("data-hide-after-load");
      if (hide && evt.detail.successful) {
        var el = document.querySelector(hide);
        if (el) { el.remove(); }
      }
    });
    document.body.addEventListener("click", function (evt) {
      var close = evt.target.closest && evt.target.closest("[data-close-form]");
      if (close) {
        var slot = close.closest(".item-form-slot");
        if (slot) { slot.innerHTML = ""; }
      }
    });
  }

  function start() {
    root = document.getElementById("study-live");
    if (!root) { return; }
    strings = document.getElementById("live-strings");
    lang = document.documentElement.lang || "nb";
    // The page was rendered with everything up to this event number.
    lastSeq = parseInt(root.getAttribute("data-last-seq") || "0", 10) || 0;
    (root.getAttribute("data-reacted") || "").split(" ").forEach(function (k) { if (k) { reacted[k] = true; } });
    wire();
    decorateAll(document.getElementById("contributions") || root);
    if ("WebSocket" in window) { connect(); }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
