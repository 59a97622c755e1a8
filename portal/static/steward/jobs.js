/* Steward job list: keeps the progress of queued and running jobs current. Every few seconds
   it asks the server (the URL in data-job-progress-url) about the rows still in flight and
   redraws their state badge, <progress> bar and duration. Without this script the page shows
   the progress as of page load, with a link to reload it. */
(function () {
  "use strict";

  var INTERVAL_MS = 3000;
  var MAX_FAILURES = 5;

  function inFlightRows() {
    return Array.prototype.slice.call(document.querySelectorAll("tr[data-job-run][data-in-flight]"));
  }

  function seconds(value) {
    return value === null || value === undefined ? null : value.toFixed(1) + " s";
  }

  function redraw(row, run) {
    var badge = row.querySelector("[data-job-badge]");
    if (badge) {
      badge.className = "badge badge--job-" + run.state;
      badge.textContent = run.state_label;
    }
    var percent = Math.round(run.progress * 100);
    var holder = row.querySelector("[data-job-progress]");
    if (holder && run.in_flight) {
      holder.querySelector("progress").value = percent;
      holder.querySelector("progress").textContent = percent + " %";
      holder.querySelector("[data-job-percent]").textContent = percent + " %";
    }
    var duration = row.querySelector("[data-job-duration]");
    if (duration && seconds(run.elapsed_s) !== null) {
      duration.textContent = seconds(run.elapsed_s);
    }
    if (!run.in_flight) {
      row.removeAttribute("data-in-flight");
      if (holder) {
        holder.parentNode.removeChild(holder);
      }
      announce("Job " + run.id + " " + run.state_label.toLowerCase() + ".");
    }
  }

  var live = null;
  function announce(text) {
    if (!live) {
      live = document.createElement("p");
      live.className = "visually-hidden";
      live.setAttribute("aria-live", "polite");
      document.body.appendChild(live);
    }
    live.textContent = text;
  }

  function start(wrapper) {
    var url = wrapper.getAttribute("data-job-progress-url");
    var failures = 0;
    var timer = null;
    var note = document.querySelector("[data-job-progress-note]");
    if (note) {
      note.textContent = "Progress of queued and running jobs updates every few seconds.";
    }

    function poll() {
      var rows = inFlightRows();
      if (!rows.length) {
        window.clearInterval(timer);
        return;
      }
      if (document.hidden) {
        return;
      }
      var ids = rows.map(function (row) { return row.getAttribute("data-job-run"); });
      fetch(url + "?ids=" + encodeURIComponent(ids.join(",")), {
        credentials: "same-origin",
        headers: { Accept: "application/json" }
      })
        .then(function (response) {
          if (!response.ok) {
            throw new Error("progress request failed: " + response.status);
          }
          return response.json();
        })
        .then(function (data) {
          failures = 0;
          data.runs.forEach(function (run) {
            var row = document.querySelector('tr[data-job-run="' + run.id + '"]');
            if (row) {
              redraw(row, run);
            }
          });
        })
        .catch(function () {
          failures += 1;
          if (failures >= MAX_FAILURES) {
            window.clearInterval(timer);
          }
        });
    }

    if (inFlightRows().length) {
      timer = window.setInterval(poll, INTERVAL_MS);
    }
  }

  function init() {
    var wrapper = document.querySelector("[data-job-progress-url]");
    if (wrapper && window.fetch) {
      start(wrapper);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
