/* The page shell (base.html): a <select data-autosubmit> (the language chooser) submits its form when it
 * changes. Scripts live in static files: the Content-Security-Policy refuses inline script and handlers. */
(function () {
  "use strict";
  function ready() {
    document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
      select.addEventListener("change", function () {
        if (select.form) select.form.submit();
      });
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", ready);
  } else {
    ready();
  }
})();
