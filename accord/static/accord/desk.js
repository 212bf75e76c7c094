/* The desk's count in the navigation bar (base.html), and the desk page kept current: both are read again from
 * GET /api/v1/desk (and the page from itself) when the live stream brings something (notify/live.js sends the
 * "accord:live" event), and every five minutes, so deadlines that pass show as overdue. */
(function () {
  "use strict";

  var timer = null;

  function refreshCount() {
    var nav = document.querySelector("[data-desk-counts]");
    var badge = document.querySelector("[data-desk-total]");
    if (!nav || !badge) return;
    fetch(nav.dataset.deskCounts, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (!data) return;
        badge.textContent = String(data.total);
        badge.hidden = data.total === 0;
        badge.classList.toggle("has-overdue", data.overdue > 0);
        badge.dataset.overdue = String(data.overdue);
      })
      .catch(function () { /* the count waits for the next try */ });
  }

  function refreshPage() {
    var items = document.querySelector("[data-desk-items]");
    if (!items) return;
    fetch(window.location.href, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (!html) return;
        var page = new DOMParser().parseFromString(html, "text/html");
        var fresh = page.querySelector("[data-desk-items]");
        var summary = page.querySelector("[data-desk-summary]");
        if (fresh) items.replaceChildren.apply(items, Array.prototype.slice.call(fresh.childNodes));
        var current = document.querySelector("[data-desk-summary]");
        if (summary && current) current.replaceChildren.apply(current, Array.prototype.slice.call(summary.childNodes));
      })
      .catch(function () { /* kept as it is */ });
  }

  function refresh() {
    if (timer) window.clearTimeout(timer);
    timer = window.setTimeout(function () {
      refreshCount();
      refreshPage();
    }, 500);
  }

  function ready() {
    refreshCount();
    document.addEventListener("accord:live", refresh);
    window.setInterval(refresh, 5 * 60 * 1000);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", ready);
  } else {
    ready();
  }
})();
