/* The series charts (surveillance/chart.py draws them as SVG on the server): read from the keyboard. With a chart in
 * focus, the arrow keys step through its weeks (Home and End: the first and the last), the week is outlined and its
 * count, threshold and alarm are said in the line under the chart (a polite live region). Hovering a bar shows
 * the same as its tooltip. Without JavaScript the table under the chart holds the numbers. */
(function () {
  "use strict";

  function wire(figure) {
    var weeks = Array.prototype.slice.call(figure.querySelectorAll("svg [data-week]"));
    var readout = figure.querySelector("[data-chart-readout]");
    var keys = figure.querySelector("[data-chart-keys]");
    if (!weeks.length || !readout) return;
    if (keys) keys.hidden = false;
    readout.hidden = false;
    var current = -1;

    function show(index) {
      if (current >= 0) weeks[current].classList.remove("current");
      current = Math.max(0, Math.min(weeks.length - 1, index));
      weeks[current].classList.add("current");
      var title = weeks[current].querySelector("title");
      readout.textContent = title ? title.textContent : weeks[current].getAttribute("data-week");
    }

    figure.addEventListener("focus", function () {
      if (current < 0) show(weeks.length - 1); // the latest week first
    });
    figure.addEventListener("keydown", function (event) {
      var moves = { ArrowLeft: current - 1, ArrowRight: current + 1, Home: 0, End: weeks.length - 1 };
      if (!(event.key in moves)) return;
      event.preventDefault();
      // In a right-to-left page the chart still runs left to right (time runs so on its axis): keys follow the chart.
      show(moves[event.key]);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("figure.chart[tabindex]").forEach(wire);
  });
})();
