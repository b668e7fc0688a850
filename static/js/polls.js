// Polls on the study page: results move live. Events come from live.js
// ("dugnad:study-event"). An event carries counts only while everyone may see
// them; otherwise a page whose viewer may see the results asks the server for
// the poll again, and the server decides per viewer (docs/polls.md).
(function () {
  "use strict";
  var waiting = {};

  function revisionOf(el) { return parseInt(el.getAttribute("data-revision") || "0", 10) || 0; }

  function parse(html) {
    var template = document.createElement("template");
    template.innerHTML = (html || "").trim();
    return template.content.firstElementChild;
  }

  function place(fresh, keepForm) {
    var current = document.getElementById(fresh.id);
    if (current) {
      if (revisionOf(current) > revisionOf(fresh)) { return; }
      var oldForm = current.querySelector("form.poll-form");
      var newForm = fresh.querySelector("form.poll-form");
      // Counts changed: keep what this viewer is choosing right now.
      if (keepForm && oldForm && newForm) { newForm.replaceWith(oldForm); }
      current.replaceWith(fresh);
    } else {
      var list = document.getElementById("poll-list");
      if (!list) { return; }
      list.insertBefore(fresh, list.firstChild);
      var heading = document.getElementById("polls-heading");
      if (heading) { heading.hidden = false; }
    }
    if (window.htmx) { window.htmx.process(fresh); }
    watchClose(fresh);
  }

  // Several events in a row cost one request, at a random moment so open pages spread out.
  function refetch(url, keepForm) {
    if (waiting[url]) { return; }
    waiting[url] = true;
    window.setTimeout(function () {
      fetch(url, { headers: { "HX-Request": "true" }, credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) {
          waiting[url] = false;
          var fresh = html && parse(html);
          if (fresh && fresh.id) { place(fresh, keepForm); }
        })
        .catch(function () { waiting[url] = false; });
    }, 150 + Math.random() * 600);
  }

  function updateCounts(el, data) {
    var total = (data.other || 0);
    Object.keys(data.counts).forEach(function (k) { total += data.counts[k] || 0; });
    el.querySelectorAll("tr[data-option-id]").forEach(function (row) {
      var id = row.getAttribute("data-option-id");
      var n = id === "other" ? (data.other || 0) : (data.counts[id] || 0);
      var count = row.querySelector(".poll-count");
      if (count) { count.textContent = String(n); }
      var percent = total ? Math.round(100 * n / total) : 0;
      var meter = row.querySelector("meter");
      if (meter) { meter.value = percent; meter.textContent = percent + " %"; }
      var label = row.querySelector(".poll-percent > span");
      if (label) { label.textContent = String(percent); }
    });
    var voters = el.querySelector(".poll-voters");
    if (voters && typeof data.voters === "number") { voters.textContent = String(data.voters); }
    el.setAttribute("data-revision", String(data.revision));
  }

  function sectionShown(data) {
    var root = document.getElementById("study-live");
    var section = root ? root.getAttribute("data-filter-section") || "" : "";
    return !section || !data.section_id || String(data.section_id) === section;
  }

  function onEvent(evt) {
    var event = evt.detail || {};
    var data = event.data || {};
    if (data.item_type !== "poll" || !event.key) { return; }
    var el = document.getElementById(event.key);
    if (!el) {
      var list = document.getElementById("poll-list");
      var base = document.getElementById("study-live");
      if (list && base && sectionShown(data)) {
        refetch(base.getAttribute("data-base-url") + "polls/" + data.item_id + "/", false);
      }
      return;
    }
    if (revisionOf(el) >= (data.revision || 0)) { return; }
    var counts = event.kind === "poll.results";
    if (counts && data.counts && el.querySelector("table.poll-results")) {
      updateCounts(el, data);
      return;
    }
    if (counts && el.getAttribute("data-results-visible") !== "true") {
      // Nothing this viewer may see has changed (results hidden until voting or closing).
      return;
    }
    refetch(el.getAttribute("data-url"), counts);
  }

  // A poll that closes at a set time shows its results then, where they are shown at closing.
  function watchClose(el) {
    var at = parseInt(el.getAttribute("data-closes-at") || "0", 10);
    if (!at) { return; }
    var wait = at * 1000 - Date.now();
    if (wait < 0 || wait > 86400000) { return; }
    window.setTimeout(function () { refetch(el.getAttribute("data-url"), false); }, wait + 500 + Math.random() * 2000);
  }

  function start() {
    document.addEventListener("dugnad:study-event", onEvent);
    document.querySelectorAll("section.poll").forEach(watchClose);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
