// The statistics page refreshes its figures after the study changes: it
// listens to the study's event stream (the same socket as the study page) and,
// once events stop arriving for a moment, fetches the figures fragment again.
// Debounced: at most one fetch per QUIET ms of calm, and one per MAX_WAIT ms
// while events keep coming. No inline scripts (CSP).
(function () {
  "use strict";

  var QUIET = 2000, MAX_WAIT = 10000;
  // Events that never change a figure (support and edits keep an item's state).
  var UNCHANGED = { reaction: true, edited: true };
  var root, socket = null, attempt = 0, timer = null, firstPending = 0, fetching = false, again = false;

  function status(message) {
    var el = document.getElementById("statistics-status");
    if (!el) { return; }
    el.textContent = message;
    el.hidden = !message;
  }

  function refresh() {
    timer = null;
    firstPending = 0;
    if (fetching) { again = true; return; }
    fetching = true;
    window.fetch(root.getAttribute("data-refresh-url"), {
      headers: { "HX-Request": "true" },
      credentials: "same-origin"
    }).then(function (response) {
      if (!response.ok) { throw new Error(String(response.status)); }
      var seq = response.headers.get("X-Dugnad-Last-Seq");
      return response.text().then(function (html) {
        var body = document.getElementById("statistics-body");
        if (body) { body.innerHTML = html; }
        if (seq) { root.setAttribute("data-last-seq", seq); }
        status(root.getAttribute("data-updated") || "");
      });
    }).catch(function () { /* the next event tries again */ }).then(function () {
      fetching = false;
      if (again) { again = false; schedule(); }
    });
  }

  function schedule() {
    var now = Date.now();
    if (!firstPending) { firstPending = now; }
    window.clearTimeout(timer);
    var wait = Math.min(QUIET, Math.max(0, firstPending + MAX_WAIT - now));
    timer = window.setTimeout(refresh, wait);
  }

  function handle(raw) {
    var message;
    try { message = JSON.parse(raw.data); } catch (e) { return; }
    if (!message || typeof message !== "object") { return; }
    var last = parseInt(root.getAttribute("data-last-seq") || "0", 10) || 0;
    if (message.type === "event" && message.seq > last && !UNCHANGED[message.kind]) { schedule(); }
    if (message.type === "resumed" && message.seq > last) { schedule(); }
    if (message.type === "reload") { schedule(); }
  }

  function connect() {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + window.location.host + root.getAttribute("data-ws-path"));
    socket.addEventListener("open", function () {
      attempt = 0;
      // Ask where the study stands: anything missed while away triggers one refresh.
      var last = parseInt(root.getAttribute("data-last-seq") || "0", 10) || 0;
      socket.send(JSON.stringify({ type: "resume", after: last }));
    });
    socket.addEventListener("message", handle);
    socket.addEventListener("close", function (event) {
      socket = null;
      if (event.code === 4404) { return; }
      var delay = Math.min(30000, 1000 * Math.pow(2, attempt)) * (0.5 + Math.random() / 2);
      attempt += 1;
      window.setTimeout(connect, delay);
    });
  }

  function start() {
    root = document.getElementById("statistics-live");
    if (!root || !("WebSocket" in window) || !window.fetch) { return; }
    connect();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
