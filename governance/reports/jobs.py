"""The "report_export" background job: a JobRun whose params name the subject and period.
Registered into monitoring.jobs.kinds by the app's ready() (monitoring may not import
governance)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.urls import reverse

KIND = "report_export"


def params_for(
    *,
    version_id: int | None = None,
    deployment_id: int | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    kind: str = "",
) -> dict[str, Any]:
    return {
        "kind": kind,
        "version": version_id,
        "deployment": deployment_id,
        "since": since.isoformat() if since else None,
        "until": until.isoformat() if until else None,
    }


def _when(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None


def run(job: Any, progress: Callable[[float], None]) -> dict[str, Any]:
    """Export the report the run's params name, as the user who requested it (or as the
    scheduler when no user did)."""
    from governance.reports.scheduling import SCHEDULER, report_email
    from governance.reports.services import report_export

    params = job.params
    export = report_export(
        actor=job.requested_by or SCHEDULER,
        version_id=params.get("version"),
        deployment_id=params.get("deployment"),
        since=_when(params.get("since")),
        until=_when(params.get("until")),
        progress=progress,
        kind=params.get("kind") or "",
    )
    sent = report_email(export=export, recipients=params["email"]) if params.get("email") else 0
    return {
        "export": export.pk,
        "emailed": sent,
        "sha256": export.sha256,
        "size": export.size,
        "download": reverse("api:report-export-download", kwargs={"pk": export.pk}),
    }
