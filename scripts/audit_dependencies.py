#!/usr/bin/env python3
"""Audit the locked dependencies (requirements.lock) for known vulnerabilities with pip-audit.

    python scripts/audit_dependencies.py [LOCKFILE]

Exit 1 when any locked package has a known vulnerability. pip-audit asks PyPI's advisory API
(the per-release JSON) over the network; when that cannot be reached, or it answers for none of
the packages, the audit did not happen: this prints so plainly and exits 0, or 1 when
STEWARD_REQUIRE_AUDIT=1 says the audit must run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_LOCK = ROOT / "requirements.lock"
TIMEOUT_S = 600


@dataclass
class Verdict:
    """What one pip-audit report says, reduced to what the build decides on."""

    audited: int = 0
    skipped: list[str] = field(default_factory=list)
    vulnerable: list[str] = field(default_factory=list)


def read_report(report: dict[str, Any]) -> Verdict:
    verdict = Verdict()
    for dep in report.get("dependencies", []):
        label = f"{dep.get('name')}=={dep.get('version')}"
        if dep.get("skip_reason"):
            verdict.skipped.append(label)
            continue
        verdict.audited += 1
        for vuln in dep.get("vulns", []):
            fixes = ", ".join(vuln.get("fix_versions") or []) or "no fixed release yet"
            verdict.vulnerable.append(f"{label}: {vuln.get('id')} (fixed in: {fixes})")
    return verdict


def run_pip_audit(lock: Path) -> tuple[dict[str, Any] | None, str]:
    """pip-audit's JSON report, or None and the reason it could not produce one."""
    command = [
        sys.executable, "-m", "pip_audit", "-r", str(lock), "--no-deps", "--disable-pip",
        "--format", "json", "--progress-spinner", "off",
    ]  # fmt: skip
    try:
        done = subprocess.run(  # noqa: S603
            command, capture_output=True, text=True, timeout=TIMEOUT_S, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, f"pip-audit did not run: {exc}"
    try:
        return json.loads(done.stdout), ""
    except json.JSONDecodeError:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return None, f"pip-audit failed (exit {done.returncode}): {last}"


def not_audited(reason: str) -> int:
    required = os.environ.get("STEWARD_REQUIRE_AUDIT") == "1"
    print(f"dependency audit: NOT RUN: {reason}")
    if required:
        print("dependency audit: STEWARD_REQUIRE_AUDIT=1, so this fails the build")
        return 1
    print("dependency audit: skipped (set STEWARD_REQUIRE_AUDIT=1 to make this an error)")
    return 0


def main(argv: list[str]) -> int:
    lock = Path(argv[0]) if argv else DEFAULT_LOCK
    if not lock.is_file():
        print(f"dependency audit: {lock} is missing; run `make lock`", file=sys.stderr)
        return 1
    report, problem = run_pip_audit(lock)
    if report is None:
        return not_audited(problem)
    verdict = read_report(report)
    for line in verdict.vulnerable:
        print(f"VULNERABLE {line}")
    if verdict.vulnerable:
        print(f"dependency audit: {len(verdict.vulnerable)} known vulnerabilities")
        return 1
    if verdict.audited == 0:
        return not_audited(
            f"the advisory service answered for none of the {len(verdict.skipped)} packages "
            "(PyPI's JSON API is out of reach from this machine)"
        )
    note = f", {len(verdict.skipped)} not auditable" if verdict.skipped else ""
    print(f"dependency audit: {verdict.audited} packages, no known vulnerabilities{note}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
