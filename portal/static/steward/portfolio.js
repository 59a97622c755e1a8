/* Steward portfolio: draws each <canvas data-portfolio-chart="AXIS"> as a doughnut from the
   JSON in #portfolio-data ({axis: {title, levels, labels, counts, hrefs}}). A slice links to
   the inventory filtered to its level, as the table under the chart does; the table carries
   the same figures, so nothing depends on this script. */
(function () {
  "use strict";

  var COLOURS = {
    good: "#2e8b57",
    at_risk: "#d99a00",
    failing: "#c0392b",
    unknown: "#9aa4b1"
  };

  function draw(canvas, chart) {
    var reduceMotion = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    new window.Chart(canvas, {
      type: "doughnut",
      data: {
        labels: chart.labels,
        datasets: [{
          label: chart.title,
          data: chart.counts,
          backgroundColor: chart.levels.map(function (level) { return COLOURS[level] || "#9aa4b1"; }),
          borderColor: "#ffffff",
          borderWidth: 2
        }]
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        cutout: "58%",
        animation: reduceMotion ? false : { duration: 300 },
        plugins: {
          legend: { display: false },
          tooltip: {
            callbacks: {
              label: function (item) {
                var total = item.dataset.data.reduce(function (a, b) { return a + b; }, 0);
                var share = total ? Math.round((1000 * item.raw) / total) / 10 : 0;
                return " " + item.label + ": " + item.raw + " (" + share + " %)";
              }
            }
          }
        },
        onHover: function (event, elements) {
          event.native.target.style.cursor = elements.length ? "pointer" : "default";
        },
        onClick: function (event, elements) {
          if (elements.length) {
            window.location.assign(chart.hrefs[elements[0].index]);
          }
        }
      }
    });
  }

  function init() {
    var source = document.getElementById("portfolio-data");
    if (!source || typeof window.Chart === "undefined") {
      return;
    }
    var charts = JSON.parse(source.textContent);
    document.querySelectorAll("canvas[data-portfolio-chart]").forEach(function (canvas) {
      var chart = charts[canvas.getAttribute("data-portfolio-chart")];
      if (chart) {
        draw(canvas, chart);
      }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
