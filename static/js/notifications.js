// The unread count in the header follows the person's socket (ws/me/).
(function () {
  "use strict";
  var badge = document.getElementById("unread-count");
  if (!badge || !window.WebSocket) { return; }
  var announcer = document.getElementById("live-announcer");
  var delay = 1000;

  function connect() {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(scheme + window.location.host + badge.getAttribute("data-person-socket"));
    socket.addEventListener("open", function () { delay = 1000; });
    socket.addEventListener("message", function (event) {
      var message;
      try { message = JSON.parse(event.data); } catch (e) { return; }
      if (message.type !== "notifications" || !message.data) { return; }
      badge.textContent = String(message.data.unread);
      if (message.data.title && announcer) { announcer.textContent = message.data.title; }
    });
    socket.addEventListener("close", function (event) {
      // Signed out (4401) or the account was deactivated (4403): no reconnect.
      if (event.code === 4401 || event.code === 4403) { return; }
      window.setTimeout(connect, delay);
      delay = Math.min(delay * 2, 30000);
    });
  }
  connect();
})();
