/* Steward charts: draws every <canvas data-chart-source="ID"> from the JSON in the
   <script id="ID" type="application/json"> element that Django's json_script writes.

   The JSON's "kind" picks the chart:
   - none: horizontal bars, {labels, values, label} (feature importance);
   - "line" / "bar": one value per label and dataset, {labels, datasets: [{label, data, color,
     axis, dash, band, fill}], y: {title, min, percent}, y2: {title}, stacked, lines: [{value,
     label, color, dash}]}; `lines` are horizontal reference lines (thresholds, training-time values);
   - "drift": per feature its drift score as a bar (red when drifted) and its importance as a
     dot on a second axis, the threshold as a red line, {labels, scores, importance, drifted,
     threshold, details: [{method, statistic, p_value, threshold, verdict, reference,
     current}]}; the tooltip shows the details.
   Every chart's figures are also in a table or caption on the page, so nothing depends on
   this script. */
(function () {
  "use strict";

  var GRID = "#e9edf2";
  var RED = "#c0392b";
  var BLUE = "#3b6fc4";
  var ORANGE = "#c46a1b";

  function reduceMotion() {
    return window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  }

  function formatNumber(value) {
    if (value === null || value === undefined) {
      return "—";
    }
    if (typeof value !== "number") {
      return String(value);
    }
    if (value !== 0 && (Math.abs(value) < 0.001 || Math.abs(value) >= 100000)) {
      return value.toExponential(2);
    }
    return String(Math.round(value * 10000) / 10000);
  }

  function percent(value) {
    return Math.round(value * 1000) / 10 + "%";
  }

  /* Horizontal reference lines: options.plugins.stewardLines.lines = [{value, label, color,
     dash, axis}], drawn over the data across the plot area, labelled at the right end. */
  var referenceLines = {
    id: "stewardLines",
    afterDatasetsDraw: function (chart, args, options) {
      var lines = (options && options.lines) || [];
      var area = chart.chartArea;
      var ctx = chart.ctx;
      lines.forEach(function (line) {
        var scale = chart.scales[line.axis || "y"];
        if (!scale || line.value === null || line.value === undefined) {
          return;
        }
        var y = scale.getPixelForValue(line.value);
        if (y < area.top - 1 || y > area.bottom + 1) {
          return;
        }
        ctx.save();
        ctx.strokeStyle = line.color || RED;
        ctx.lineWidth = 2;
        ctx.setLineDash(line.dash ? [6, 4] : []);
        ctx.beginPath();
        ctx.moveTo(area.left, y);
        ctx.lineTo(area.right, y);
        ctx.stroke();
        if (line.label) {
          ctx.setLineDash([]);
          ctx.fillStyle = line.color || RED;
          ctx.font = "12px system-ui, sans-serif";
          ctx.textAlign = "right";
          ctx.textBaseline = "bottom";
          ctx.fillText(line.label + " " + formatNumber(line.value), area.right - 4, y - 3);
        }
        ctx.restore();
      });
    }
  };

  /* The y range must show every reference line, even one outside the data. */
  function rangeWith(values, lines, axis) {
    var all = values.filter(function (v) { return typeof v === "number"; });
    lines.forEach(function (line) {
      if ((line.axis || "y") === axis && typeof line.value === "number") {
        all.push(line.value);
      }
    });
    if (!all.length) {
      return {};
    }
    var lo = Math.min.apply(null, all);
    var hi = Math.max.apply(null, all);
    var pad = (hi - lo) * 0.08 || Math.abs(hi) * 0.08 || 1;
    /* Counts and rates never go below zero: neither does their axis. */
    return { suggestedMin: lo >= 0 ? Math.max(0, lo - pad) : lo - pad, suggestedMax: hi + pad };
  }

  function axisOptions(spec, values, lines, axis, position) {
    spec = spec || {};
    var options = Object.assign(
      {
        position: position,
        grid: { color: position === "left" ? GRID : "transparent" },
        title: { display: !!spec.title, text: spec.title || "" },
        ticks: {}
      },
      rangeWith(values, lines, axis)
    );
    if (typeof spec.min === "number") {
      options.min = spec.min;
    }
    if (spec.percent) {
      options.ticks.callback = function (value) { return percent(value); };
    }
    return options;
  }

  function series(canvas, data) {
    var lines = data.lines || [];
    var percentY = data.y && data.y.percent;
    var left = [];
    var right = [];
    var hasRight = false;
    var datasets = data.datasets.map(function (set) {
      var axis = set.axis || "y";
      var target = axis === "y" ? left : right;
      Array.prototype.push.apply(target, set.data);
      hasRight = hasRight || axis === "y2";
      // `band`: an edge of a shaded band (no line, no points, no legend entry); `fill`
      // (e.g. "+1") shades down to another dataset; `dash`: a dashed line (estimates).
      return {
        label: set.label,
        data: set.data,
        yAxisID: axis,
        borderColor: set.band ? "transparent" : set.color || BLUE,
        backgroundColor: set.band ? (set.color || BLUE) + "33" : set.color || BLUE,
        borderWidth: set.band ? 0 : 2,
        borderDash: set.dash ? [6, 4] : [],
        pointRadius: set.band ? 0 : data.labels.length > 45 ? 0 : 3,
        fill: set.fill || false,
        band: !!set.band,
        spanGaps: false,
        tension: 0
      };
    });
    var scales = {
      x: { stacked: !!data.stacked, grid: { display: false } },
      y: Object.assign(axisOptions(data.y, left, lines, "y", "left"), { stacked: !!data.stacked })
    };
    if (hasRight) {
      scales.y2 = axisOptions(data.y2, right, lines, "y2", "right");
    }
    return new window.Chart(canvas, {
      type: data.kind,
      data: { labels: data.labels, datasets: datasets },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: reduceMotion() ? false : { duration: 300 },
        interaction: { mode: "index", intersect: false },
        scales: scales,
        plugins: {
          stewardLines: { lines: lines },
          legend: {
            labels: { filter: function (item, data) { return !data.datasets[item.datasetIndex].band; } }
          },
          tooltip: {
            callbacks: {
              label: function (item) {
                var v = item.raw;
                return item.dataset.label + ": " + (percentY && typeof v === "number" ? percent(v) : formatNumber(v));
              }
            }
          }
        }
      },
      plugins: [referenceLines]
    });
  }

  function drift(canvas, data) {
    canvas.parentElement.style.height = Math.max(280, Math.min(520, 220 + data.labels.length * 6)) + "px";
    /* Two bar series, one null where the other has the bar, so the legend names both. */
    function where(flag) {
      return data.scores.map(function (score, i) { return data.drifted[i] === flag ? score : null; });
    }
    var lines = [{ value: data.threshold, label: "Drift threshold", color: RED }];
    return new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: data.labels,
        datasets: [
          {
            type: "bar",
            label: "Drift score, drifted",
            data: where(true),
            backgroundColor: RED,
            borderColor: RED,
            yAxisID: "y",
            skipNull: true,
            grouped: false,
            order: 2
          },
          {
            type: "bar",
            label: "Drift score, no drift",
            data: where(false),
            backgroundColor: BLUE,
            borderColor: BLUE,
            yAxisID: "y",
            skipNull: true,
            grouped: false,
            order: 3
          },
          {
            type: "line",
            label: "Importance",
            data: data.importance,
            yAxisID: "y2",
            showLine: false,
            pointRadius: 5,
            pointStyle: "rectRot",
            borderColor: ORANGE,
            backgroundColor: ORANGE,
            order: 1
          }
        ]
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: reduceMotion() ? false : { duration: 300 },
        interaction: { mode: "index", intersect: false },
        scales: {
          x: { grid: { display: false }, ticks: { autoSkip: false, maxRotation: 60 } },
          y: axisOptions({ title: "Drift score", min: 0 }, data.scores, lines, "y", "left"),
          y2: axisOptions({ title: "Importance", min: 0 }, data.importance, [], "y2", "right")
        },
        plugins: {
          stewardLines: { lines: lines },
          tooltip: {
            filter: function (item) { return item.raw !== null; },
            callbacks: {
              label: function (item) {
                return item.dataset.label + ": " + formatNumber(item.raw);
              },
              afterBody: function (items) {
                var d = data.details[items[0].dataIndex];
                return [
                  "Method: " + d.method + " (" + d.verdict + ")",
                  "Statistic: " + formatNumber(d.statistic),
                  "p-value: " + formatNumber(d.p_value),
                  "Threshold: " + formatNumber(d.threshold),
                  "Reference: " + d.reference,
                  "Production: " + d.current
                ];
              }
            }
          }
        }
      },
      plugins: [referenceLines]
    });
  }

  function horizontalBars(canvas, data) {
    var rows = data.labels.length;
    canvas.parentElement.style.height = Math.max(120, rows * 28 + 48) + "px";
    return new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: data.labels,
        datasets: [{
          label: data.label || "",
          data: data.values,
          backgroundColor: BLUE,
          borderColor: "#173f80",
          borderWidth: 1
        }]
      },
      options: {
        indexAxis: "y",
        responsive: true,
        maintainAspectRatio: false,
        animation: reduceMotion() ? false : { duration: 300 },
        plugins: { legend: { display: false } },
        scales: {
          x: { beginAtZero: true, grid: { color: GRID } },
          y: { grid: { display: false } }
        }
      }
    });
  }

  function draw(canvas) {
    var source = document.getElementById(canvas.dataset.chartSource);
    if (!source || typeof window.Chart === "undefined") {
      return;
    }
    var data = JSON.parse(source.textContent);
    if (data.kind === "drift") {
      drift(canvas, data);
    } else if (data.kind === "line" || data.kind === "bar") {
      series(canvas, data);
    } else {
      horizontalBars(canvas, data);
    }
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
