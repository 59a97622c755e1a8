/* Steward charts: draws every <canvas data-chart-source="ID"> as a horizontal bar chart from
   the JSON in the <script id="ID" type="application/json"> element ({labels, values, label}).
   The data is also in a table next to each chart, so nothing depends on this script. */
(function () {
  "use strict";

  function draw(canvas) {
    var source = document.getElementById(canvas.dataset.chartSource);
    if (!source || typeof window.Chart === "undefined") {
      return;
    }
    var data = JSON.parse(source.textContent);
    var rows = data.labels.length;
    canvas.parentElement.style.height = Math.max(120, rows * 28 + 48) + "px";
    var reduceMotion = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: data.labels,
        datasets: [{
          label: data.label || "",
          data: data.values,
          backgroundColor: "#3b6fc4",
          borderColor: "#173f80",
          borderWidth: 1
        }]
      },
      options: {
        indexAxis: "y",
        responsive: true,
        maintainAspectRatio: false,
        animation: reduceMotion ? false : { duration: 300 },
        plugins: { legend: { display: false } },
        scales: {
          x: { beginAtZero: true, grid: { color: "#e9edf2" } },
          y: { grid: { display: false } }
        }
      }
    });
  }

  function init() {
    document.querySelectorAll("canvas[data-chart-source]").forEach(draw);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
