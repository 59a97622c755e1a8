#!/usr/bin/env python3
"""Run the test suite in phases (docs/testing.md) and print one table at the end.

    pure               tests that never reach the database, once (SQLite settings)
    sqlite             database tests on SQLite and the embedded broker, pytest-xdist
    postgresql         database tests and the fuzzing on PostgreSQL and Redis, pytest-xdist
    postgresql-serial  the failure drills and the load drill, one at a time, while the pure
                       phase runs (they share nothing: the pure tests reach no database)

The phases select tests by markers that tests/conftest.py derives from each test's fixtures,
so a new test needs no list. The PostgreSQL phases run when DATABASE_URL is set or
REQUIRE_SERVICES=1; otherwise the PostgreSQL-only tests run on SQLite (most of them skip
there), as the whole suite did before. Exit status: 0 when no phase failed; pytest's "no tests
collected" (5) is not a failure. The last line is pytest's summary format, summed.

Environment: PYTEST_ARGS (extra pytest options for every phase), STEWARD_TEST_WORKERS
(pytest-xdist workers, default 2; 0 runs every phase in one process).
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_PG_URL = "postgres://postgres@127.0.0.1:5432/test"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
NO_TESTS_COLLECTED = 5


@dataclass
class Phase:
    name: str
    markers: str
    backend: str  # "sqlite" or "postgresql"
    parallel: bool
    storage: str  # STEWARD_STORAGE_DIR, under the checkout
    # pytest-xdist: "load" hands out single tests; "loadfile" keeps a module on one worker,
    # so that its module-scoped fixtures (a seeded world, a Celery worker) are built once.
    dist: str = "loadfile"
    # Start at the same time as the phase of this name and run in the background, beside it
    # and the phases after it until the phase named `until` starts (without `until`, until
    # the phase it runs beside ends): for a phase whose tests share nothing with theirs (no
    # database, broker, port or worker).
    beside: str | None = None
    until: str | None = None


@dataclass
class Result:
    phase: Phase
    seconds: float = 0.0
    exit_code: int | None = None  # None: not run
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        return self.exit_code not in (None, 0, NO_TESTS_COLLECTED)


PHASES = [
    Phase("pure", "not db", "sqlite", parallel=True, storage="var/test-pure", dist="load"),
    Phase(
        "sqlite", "db and not postgresql_only", "sqlite", parallel=True, storage="var/test-sqlite"
    ),
    Phase(
        "postgresql",
        "db and not serial",
        "postgresql",
        parallel=True,
        storage="var/test-pg",
    ),
    Phase(
        "postgresql-serial",
        "serial",
        "postgresql",
        parallel=False,
        storage="var/test-pg-serial",
        # The drills wait on kills, leases and restarts more than they compute. The pure
        # tests reach no database, broker or port, and the SQLite ones no PostgreSQL or Redis,
        # so nothing of one can disturb the other; the PostgreSQL phase waits for them.
        beside="pure",
        until="postgresql",
    ),
]
# Without PostgreSQL the last phase still runs its PostgreSQL-only tests, on SQLite.
SQLITE_FALLBACK = Phase(
    "postgresql-only-on-sqlite",
    "postgresql_only",
    "sqlite",
    parallel=False,
    storage="var/test-sqlite-serial",
)


def phase_env(phase: Phase, pg_url: str, redis_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTEST_XDIST_WORKER", None)
    if phase.backend == "sqlite":
        env.pop("DATABASE_URL", None)
        env.pop("CELERY_BROKER_URL", None)
    else:
        env["DATABASE_URL"] = pg_url
        env["CELERY_BROKER_URL"] = redis_url
    env["STEWARD_STORAGE_DIR"] = phase.storage
    return env


def xdist_args(phase: Phase, workers: int) -> list[str]:
    """One storage folder per xdist worker (its SQLite file, embedded broker and beat schedule):
    execnet sets the variable in the worker before Django reads its settings."""
    if not phase.parallel or workers < 2:
        return []
    storage = (ROOT / phase.storage).resolve()
    args = ["--dist", phase.dist]
    for n in range(workers):
        args += ["--tx", f"popen//env:STEWARD_STORAGE_DIR={storage / f'worker{n}'}"]
    return args


def junit_counts(path: Path) -> dict[str, int]:
    counts = {"passed": 0, "failed": 0, "errors": 0, "skipped": 0}
    if not path.exists():
        return counts
    # The junit file this run's own pytest just wrote.
    for suite in ET.parse(path).getroot().iter("testsuite"):  # noqa: S314
        tests = int(suite.get("tests", 0))
        failed = int(suite.get("failures", 0))
        errors = int(suite.get("errors", 0))
        skipped = int(suite.get("skipped", 0))
        counts["failed"] += failed
        counts["errors"] += errors
        counts["skipped"] += skipped
        counts["passed"] += tests - failed - errors - skipped
    return counts


@dataclass
class Running:
    """A phase's pytest, started; `finish` waits for it and gives its result."""

    phase: Phase
    process: subprocess.Popen[bytes]
    started: float
    junit: Path
    log: Path | None = None  # where its output goes when it runs beside another phase
    ended: float | None = None
    watcher: threading.Thread | None = None

    def watch(self) -> None:
        self.process.wait()
        self.ended = time.monotonic()

    def finish(self) -> Result:
        if self.watcher is not None:
            self.watcher.join()
        else:
            self.watch()
        seconds = (self.ended or time.monotonic()) - self.started
        if self.log is not None:
            print(f"\n== phase {self.phase.name}: its output (it ran beside another) ==")
            sys.stdout.write(self.log.read_text(errors="replace"))
            sys.stdout.flush()
        code = self.process.returncode
        return Result(self.phase, seconds, code, junit_counts(self.junit))


def start_phase(
    phase: Phase,
    *,
    workers: int,
    pg_url: str,
    redis_url: str,
    extra: list[str],
    background: bool = False,
) -> Running:
    """Start the phase's pytest; in the background its output goes to a log under
    var/test-phases/ (printed by `finish`), in the foreground to this terminal."""
    junit = ROOT / "var" / "test-phases" / f"{phase.name}.xml"
    junit.parent.mkdir(parents=True, exist_ok=True)
    junit.unlink(missing_ok=True)
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-m",
        phase.markers,
        f"--junitxml={junit}",
        "-p",
        "no:cacheprovider",
        *xdist_args(phase, workers),
        *extra,
    ]
    where = "SQLite" if phase.backend == "sqlite" else f"PostgreSQL ({pg_url}), Redis ({redis_url})"
    then = f" and the phases up to {phase.until}" if phase.until else ""
    when = f", beside phase {phase.beside}{then} (output when it ends)" if background else ""
    print(f"\n== phase {phase.name}: -m '{phase.markers}' on {where}{when} ==", flush=True)
    env = phase_env(phase, pg_url, redis_url)
    log = junit.with_suffix(".log") if background else None
    start = time.monotonic()
    if log is None:
        process = subprocess.Popen(command, cwd=ROOT, env=env)  # noqa: S603
        return Running(phase, process, start, junit)
    with open(log, "wb") as out:
        process = subprocess.Popen(  # noqa: S603
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    running = Running(phase, process, start, junit, log=log)
    running.watcher = threading.Thread(target=running.watch, daemon=True)
    running.watcher.start()
    return running


def minutes(seconds: float) -> str:
    return f"{int(seconds // 60)}:{seconds % 60:04.1f}"


def report(results: list[Result], total_seconds: float) -> int:
    print("\n== test phases ==")
    header = f"{'phase':<26}{'time':>9}{'passed':>8}{'failed':>8}{'errors':>8}{'skipped':>9}  exit"
    print(header)
    print("-" * len(header))
    totals = {"passed": 0, "failed": 0, "errors": 0, "skipped": 0}
    for result in results:
        if result.exit_code is None:
            print(f"{result.phase.name:<26}{'-':>9}  not run: PostgreSQL not configured")
            continue
        c = result.counts
        for key in totals:
            totals[key] += c[key]
        print(
            f"{result.phase.name:<26}{minutes(result.seconds):>9}{c['passed']:>8}{c['failed']:>8}"
            f"{c['errors']:>8}{c['skipped']:>9}  {result.exit_code}"
            + ("  FAILED" if result.failed else "")
        )
    broken = [
        r.phase.name for r in results if r.failed and not (r.counts["failed"] or r.counts["errors"])
    ]
    if broken:
        # An exit status without failing tests (an internal error, an interrupted run).
        print(f"phases that exited with an error and no failing test: {', '.join(broken)}")
    summary = [f"{totals['failed']} failed", f"{totals['passed']} passed"]
    if totals["skipped"]:
        summary.append(f"{totals['skipped']} skipped")
    if totals["errors"]:
        summary.append(f"{totals['errors']} errors")
    failed = any(r.failed for r in results)
    print(f"== {', '.join(summary)} in {total_seconds:.2f}s ({minutes(total_seconds)}) ==")
    return 1 if failed else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", help="comma-separated phase names (default: all)")
    parser.add_argument("--postgres-url", default=os.environ.get("DATABASE_URL") or DEFAULT_PG_URL)
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL)
    args = parser.parse_args()
    workers = int(os.environ.get("STEWARD_TEST_WORKERS", "2"))
    extra = shlex.split(os.environ.get("PYTEST_ARGS", ""))
    with_postgresql = (
        bool(os.environ.get("DATABASE_URL")) or os.environ.get("REQUIRE_SERVICES") == "1"
    )
    phases = list(PHASES) if with_postgresql else [*PHASES[:2], SQLITE_FALLBACK, *PHASES[2:]]
    if args.only:
        wanted = set(args.only.split(","))
        unknown = wanted - {p.name for p in [*PHASES, SQLITE_FALLBACK]}
        if unknown:
            parser.error(f"unknown phase(s): {', '.join(sorted(unknown))}")
        phases = [p for p in phases if p.name in wanted]
    started = time.monotonic()
    builder = mlflow_server_prebuild() if any(p.markers != "not db" for p in phases) else None
    results: dict[str, Result] = {}
    options = {
        "workers": workers,
        "pg_url": args.postgres_url,
        "redis_url": args.redis_url,
        "extra": extra,
    }

    def runnable(phase: Phase) -> bool:
        return phase.backend != "postgresql" or with_postgresql

    background: list[Running] = []

    def wait_for(running: list[Running]) -> None:
        for one in running:
            results[one.phase.name] = one.finish()
            background.remove(one)

    for phase in phases:
        if phase.name in results or any(r.phase is phase for r in background):
            continue  # it runs beside an earlier phase
        if not runnable(phase):
            print(f"\n== phase {phase.name}: skipped, set DATABASE_URL or REQUIRE_SERVICES=1 ==")
            results[phase.name] = Result(phase)
            continue
        wait_for([r for r in background if r.phase.until == phase.name])
        background += [
            start_phase(other, background=True, **options)
            for other in phases
            if other.beside == phase.name and runnable(other)
        ]
        results[phase.name] = start_phase(phase, **options).finish()
        wait_for([r for r in background if r.phase.until is None])
    wait_for(list(background))
    if builder is not None and builder.wait() != 0:
        print("(building the MLflow test server's environment in the background failed; the")
        print(" MLflow tests built it themselves, or said why they could not)")
    return report([results[p.name] for p in phases], time.monotonic() - started)


def mlflow_server_prebuild() -> subprocess.Popen[bytes]:
    """Build the MLflow test server's virtual environment (tests/mlflow_server.py; a pip
    install of `mlflow`, a minute or two on a clean clone) in the background while the first
    phases run. The MLflow tests take the same file lock, so they wait for it rather than
    build it twice; when it is already built this returns at once."""
    code = "from tests.mlflow_server import server_bin; server_bin()"
    log = ROOT / "var" / "test-phases" / "mlflow-server-build.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "wb") as out:
        return subprocess.Popen(  # noqa: S603
            [sys.executable, "-c", code], cwd=ROOT, stdout=out, stderr=subprocess.STDOUT
        )


if __name__ == "__main__":
    sys.exit(main())
