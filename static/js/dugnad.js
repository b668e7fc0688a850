// Small page behaviours shared by every page. No inline scripts (CSP).
(function () {
  "use strict";
  // Buttons and forms with data-confirm ask before submitting.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var message = form.getAttribute("data-confirm");
    if (message && !window.confirm(message)) {
      event.preventDefault();
    }
  }, true);
})();
