// Follows a report export job: polls its JSON until it succeeds or fails, then shows the
// download link. No inline script: the API URL comes from a data attribute.
(function () {
  "use strict";
  const card = document.querySelector("[data-report-job]");
  if (!card) return;
  const url = card.getAttribute("data-report-job");
  const state = card.querySelector("[data-job-state]");
  const bar = card.querySelector("[data-job-bar]");
  const percent = card.querySelector("[data-job-percent]");
  const done = card.querySelector("[data-job-done]");
  const link = card.querySelector("[data-job-download]");
  const sha = card.querySelector("[data-job-sha]");
  const error = card.querySelector("[data-job-error]");

  function show(job) {
    const pct = Math.round((job.progress || 0) * 100);
    state.textContent = job.state;
    state.className = "badge badge--job-" + job.state;
    bar.value = pct;
    percent.textContent = pct + " %";
    if (job.state === "succeeded" && job.result) {
      link.href = job.result.download;
      sha.textContent = job.result.sha256;
      done.hidden = false;
      return true;
    }
    if (job.state === "failed") {
      error.textContent = job.error || "The export failed.";
      error.hidden = false;
      return true;
    }
    return false;
  }

  function poll() {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then((r) => (r.ok ? r.json() : Promise.reject(r.status)))
      .then((job) => {
        if (!show(job)) setTimeout(poll, 1000);
      })
      .catch(() => setTimeout(poll, 3000));
  }
  poll();
})();
