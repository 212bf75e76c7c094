// Upload progress: poll the status endpoint until the worker has finished, then reload the page
// (which then shows the per-row error report or the summary, rendered on the server).
(function () {
  "use strict";
  var box = document.getElementById("upload-progress");
  if (!box || box.dataset.finished === "true") { return; }
  var url = box.dataset.statusUrl;
  var status = document.getElementById("upload-status");
  var count = document.getElementById("upload-count");
  var bar = document.getElementById("upload-bar");
  function poll() {
    fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (state) {
        if (!state) { window.setTimeout(poll, 3000); return; }
        status.textContent = state.status_label;
        status.className = "badge upload-" + state.status;
        if (state.total) {
          count.textContent = state.processed + " / " + state.total;
          bar.max = state.total;
          bar.value = state.processed;
        }
        if (state.finished) { window.location.reload(); } else { window.setTimeout(poll, 700); }
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  window.setTimeout(poll, 300);
})();
