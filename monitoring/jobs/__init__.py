"""Background jobs: every run is a `JobRun` row, sent to the workers by Celery.

The modules depend on each other in one direction, so nothing needs an import inside a
function to dodge a loop:

    beat ──> queue ──> tasks ──> runs, kinds
    (job bodies, e.g. rollups.jobs) ──> queue, runs

- `kinds`: which function runs a kind; apps register theirs from `AppConfig.ready()`.
- `runs`: a run's state changes (claim with a lease, progress, succeed, fail), one row update each.
- `tasks`: the Celery task that claims a run and calls its kind.
- `queue`: record a run and send it (`job_create`), send again what the broker lost.
- `beat`: the periodic entry points named in `CELERY_BEAT_SCHEDULE`.
"""
