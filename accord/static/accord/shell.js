/* The page shell (base.html). Scripts live in static files: the Content-Security-Policy refuses inline script
 * and handlers.
 * - a <select data-autosubmit> (the language chooser) submits its form when it changes;
 * - a table that scrolls inside its own box on a narrow screen (table.records, see accord.css) can take the
 *   keyboard focus, so it can be scrolled without a mouse;
 * - a page with an error summary (#error-summary) puts the focus on it. */
(function () {
  "use strict";

  function focusableWhenScrolling() {
    document.querySelectorAll("table.records").forEach(function (table) {
      if (table.scrollWidth > table.clientWidth + 1) {
        table.tabIndex = 0;
      } else if (table.getAttribute("tabindex") === "0") {
        table.removeAttribute("tabindex");
      }
    });
  }

  function ready() {
    document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
      select.addEventListener("change", function () {
        if (select.form) select.form.submit();
      });
    });
    focusableWhenScrolling();
    window.addEventListener("resize", focusableWhenScrolling);
    // A form sent back with problems: the summary of them takes the focus, so it is read first.
    var summary = document.getElementById("error-summary");
    if (summary) summary.focus();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", ready);
  } else {
    ready();
  }
})();
