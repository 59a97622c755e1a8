"""Signed report benchmark: render and sign a deployment report with 90 days of monitoring
and 25 features.

The script migrates a fresh SQLite database under var/bench-reports, builds an approved
version with 25 input features through the real services (checklist, approvals, production
deployment), writes 90 days of daily performance, hourly health and per-feature daily drift
(2,250 drift results) and one resolved alert, creates a signing identity, then exports the
deployment report three times and reports the median. Each export gathers the evidence,
renders HTML to PDF/A-3b with WeasyPrint, signs it with pyHanko (PAdES), stores it and audits
it; the script also verifies the last file. Then it exports the version's technical
documentation (EU AI Act Annex IV, with the same 90 days of monitoring, an alert rule and
monitoring settings behind its post-market monitoring section) as many times.

Usage: .venv/bin/python bench/reports.py [--days 90] [--features 25] [--runs 3]
The last line is `RESULT report_s=<median seconds of one export> techdoc_s=<median seconds
of one technical documentation export>`. Targets: under 5 s and under 10 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
STORAGE = ROOT / "var" / "bench-reports"


def setup_django() -> None:
    shutil.rmtree(STORAGE, ignore_errors=True)
    os.environ.pop("DATABASE_URL", None)
    os.environ["STEWARD_STORAGE_DIR"] = str(STORAGE)
    os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-not-for-production-0123456789")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    os.environ.setdefault("STEWARD_AUDIT_CHECKPOINT_EVERY", "100")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("create_signing_identity", verbosity=0, stdout=open(os.devnull, "w"))  # noqa: SIM115


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--features", type=int, default=25)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    started = time.perf_counter()
    setup_django()

    from governance.reports import services
    from tests import factories
    from tests.governance.reports.builders import monitoring_history

    names = [f"feature_{i:02d}" for i in range(args.features)]
    version = factories.approved_version(
        input_schema=[{"name": n, "type": "numeric"} for n in names],
        feature_importance={n: 1.0 / (i + 1) for i, n in enumerate(names)},
    )
    deployment = factories.production_deployment(version=version)
    end = monitoring_history(deployment, days=args.days, features=names)
    since = end - dt.timedelta(days=args.days)
    print(
        f"setup: {time.perf_counter() - started:.1f} s ({args.days} days, {args.features} features)"
    )

    times = []
    export = None
    for run in range(args.runs):
        t0, c0 = time.perf_counter(), time.process_time()
        export = services.report_export(
            actor=version.model.owner, deployment_id=deployment.pk, since=since, until=end
        )
        times.append(time.perf_counter() - t0)
        cpu = time.process_time() - c0
        print(
            f"run {run + 1}: {times[-1]:.2f} s wall, {cpu:.2f} s CPU, {export.size / 1024:.0f} KiB"
        )
    assert export is not None
    with export.file.open("rb") as f:
        result = services.report_verify(f.read())
    problems = ", ".join(result.verdict.problems) or "no problems"
    print(f"verified: {'valid' if result.ok else 'INVALID'} ({problems})")
    median = statistics.median(times)

    from governance.reports.choices import ReportKind
    from monitoring.models import AlertRule

    factories.monitoring_settings(deployment, sensitive_attribute=names[0])
    AlertRule.objects.create(
        model=version.model, source="metric", name="roc_auc", comparator="lt", threshold=0.8
    )
    techdoc_times = []
    for run in range(args.runs):
        t0, c0 = time.perf_counter(), time.process_time()
        export = services.report_export(
            actor=version.model.owner,
            version_id=version.pk,
            kind=ReportKind.TECHNICAL_DOCUMENTATION,
        )
        techdoc_times.append(time.perf_counter() - t0)
        cpu = time.process_time() - c0
        print(
            f"technical documentation run {run + 1}: {techdoc_times[-1]:.2f} s wall, "
            f"{cpu:.2f} s CPU, {export.size / 1024:.0f} KiB"
        )
    with export.file.open("rb") as f:
        ok = services.report_verify(f.read()).ok
    print(f"technical documentation verified: {'valid' if ok else 'INVALID'}")
    print(f"RESULT report_s={median:.2f} techdoc_s={statistics.median(techdoc_times):.2f}")


if __name__ == "__main__":
    main()
