// Moderation on the client: flag and moderation controls on the study page,
// and the live moderation queue. No inline scripts (CSP); the server re-checks
// every action, these controls only save a trip to another page.
(function () {
  "use strict";

  // --- Study page: controls inside each item's .item-tools -----------------
  // The templates hold the controls the server renders on each item
  // (moderation/_item_tools.html, every form, each with the states
  // it is for); this fills the same placeholders contributions/fragments.py does
  // and wraps them as the server does.
  var PLACEHOLDER = /__(ITEM_URL|URL|NEXT|UID)__/g;

  function pageTools() {
    var root = document.getElementById("moderation-page-tools");
    if (!root) { return; }
    var userId = root.getAttribute("data-user-id");
    var canFlag = root.getAttribute("data-can-flag") === "true";
    var canModerate = root.getAttribute("data-can-moderate") === "true";
    var flagTemplate = document.getElementById("moderation-flag-template");
    var modTemplate = document.getElementById("moderation-facilitator-template");

    function fill(url, type, id) {
      return url.replace("/__type__/0/", "/" + encodeURIComponent(type) + "/" + encodeURIComponent(id) + "/");
    }

    function instantiate(template, values) {
      var fragment = template.content.cloneNode(true);
      fragment.querySelectorAll("*").forEach(function (el) {
        Array.prototype.slice.call(el.attributes).forEach(function (attr) {
          var value = attr.value.replace(PLACEHOLDER, function (match, name) { return values[name]; });
          if (value !== attr.value) { el.setAttribute(attr.name, value); }
        });
      });
      return fragment;
    }

    function decorate(item) {
      var tools = item.querySelector(":scope > .item-tools");
      if (!tools) { return; }
      var type = item.getAttribute("data-item-type");
      var id = item.getAttribute("data-item-id");
      var state = item.getAttribute("data-state") || "";
      var author = item.getAttribute("data-author-id");
      if (!type || !id) { return; }
      var existing = tools.querySelector(":scope > .moderation-item-tools");
      if (existing && existing.getAttribute("data-for-state") === state) { return; }
      if (existing && existing.contains(document.activeElement)) { return; }
      if (existing) { existing.remove(); }
      var itemUrl = fill(root.getAttribute("data-item-url"), type, id);
      var values = {
        ITEM_URL: itemUrl,
        NEXT: window.location.pathname + window.location.search + "#" + item.id,
        UID: type + "-" + id
      };
      var controls = null;
      if (canModerate && modTemplate) {
        values.URL = itemUrl;
        controls = instantiate(modTemplate, values);
        controls.querySelectorAll("form[data-show-states]").forEach(function (form) {
          var states = form.getAttribute("data-show-states").split(" ");
          if (states.indexOf(state) === -1) { form.remove(); }
        });
      } else if (canFlag && flagTemplate && state === "published" && author !== userId) {
        values.URL = fill(root.getAttribute("data-flag-url"), type, id);
        controls = instantiate(flagTemplate, values);
      }
      if (!controls) { return; }
      var wrapper = document.createElement("span");
      wrapper.className = "moderation-item-tools";
      wrapper.setAttribute("data-for-state", state);
      wrapper.appendChild(controls);
      tools.appendChild(wrapper);
    }

    function decorateAll(scope) {
      if (scope.matches && scope.matches(".item[data-item-type]")) { decorate(scope); }
      scope.querySelectorAll(".item[data-item-type]").forEach(decorate);
    }

    decorateAll(document);
    // Items arrive and change live: decorate new ones, redo those whose state changed.
    new MutationObserver(function (mutations) {
      mutations.forEach(function (m) {
        if (m.type === "attributes") {
          decorate(m.target);
        } else {
          m.addedNodes.forEach(function (node) {
            if (node.nodeType === 1) {
              var item = node.closest(".item[data-item-type]");
              if (item) { decorate(item); }
              decorateAll(node);
            }
          });
        }
      });
    }).observe(document.body, { childList: true, subtree: true, attributes: true, attributeFilter: ["data-state"] });
  }

  // --- Moderation queue: refresh when the socket says something arrived -----
  function liveQueue() {
    var queue = document.querySelector("[data-moderation-queue]");
    if (!queue) { return; }
    var status = document.getElementById("moderation-live-status");
    var announcer = document.getElementById("live-announcer");
    var paths = [];
    try { paths = JSON.parse(queue.getAttribute("data-sockets") || "[]"); } catch (e) { paths = []; }
    var timer = null;

    function announce(text) {
      if (!announcer || !text) { return; }
      announcer.textContent = "";
      window.setTimeout(function () { announcer.textContent = text; }, 50);
    }

    function refresh() {
      window.clearTimeout(timer);
      timer = window.setTimeout(function () {
        if (window.htmx) {
          window.htmx.ajax("GET", queue.getAttribute("data-refresh-url"), { target: queue, swap: "innerHTML" });
        }
      }, 400);
    }

    function connect(path, attempt) {
      var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
      var socket = new WebSocket(scheme + window.location.host + path);
      socket.addEventListener("open", function () {
        attempt = 0;
        if (status) { status.textContent = ""; }
      });
      socket.addEventListener("message", function (event) {
        var message;
        try { message = JSON.parse(event.data); } catch (e) { return; }
        if (message.type === "flag") {
          announce(queue.getAttribute("data-announce-flag"));
        } else if (message.type === "item.pending") {
          announce(queue.getAttribute("data-announce-pending"));
        } else if (message.type === "handled") {
          announce(queue.getAttribute("data-announce-handled"));
        } else {
          return;
        }
        refresh();
      });
      socket.addEventListener("close", function (event) {
        if (event.code === 4403 || event.code === 4404) { return; }
        var delay = Math.min(30000, 1000 * Math.pow(2, attempt));
        window.setTimeout(function () { connect(path, attempt + 1); refresh(); }, delay);
      });
    }

    paths.forEach(function (path) { connect(path, 0); });
  }

  function start() { pageTools(); liveQueue(); }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
