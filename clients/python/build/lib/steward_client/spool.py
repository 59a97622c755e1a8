"""A directory of batches waiting for the server: one NDJSON file per batch, named so that
sorting the names sorts them oldest first. Writes are atomic (a temporary file renamed into
place); a batch is claimed by renaming it before it is sent, so two loggers sharing the
directory never send the same file at once (a resend would be harmless anyway: the server
counts repeated request ids as duplicates)."""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("steward_client.spool")
SUFFIX = ".ndjson"
CLAIM = ".claim-"


def default_root() -> Path:
    configured = os.environ.get("STEWARD_SPOOL_DIR")
    if configured:
        return Path(configured)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "steward-client"


def spool_dir(root: Path, base_url: str, deployment_id: int, kind: str) -> Path:
    """One folder per server, deployment and kind of row: the next logger for the same three
    replays what an earlier one left."""
    server = hashlib.sha256(base_url.rstrip("/").encode()).hexdigest()[:16]
    return root / f"{server}-{deployment_id}-{kind}"


@dataclass(frozen=True)
class Batch:
    path: Path
    rows: int

    def body(self) -> bytes:
        return self.path.read_bytes()


class Spool:
    """Size-capped: when a new batch would pass `max_bytes`, the new batch is dropped (the
    oldest data is kept), with a warning, and counted in `dropped_rows`."""

    def __init__(self, directory: Path, *, max_bytes: int = 256 * 1024 * 1024) -> None:
        self.directory = directory
        self.max_bytes = max_bytes
        self.dropped_rows = 0
        self.dropped_batches = 0
        self._lock = threading.Lock()
        self._seq = 0
        directory.mkdir(parents=True, exist_ok=True)
        self._release_stale_claims()

    def _release_stale_claims(self) -> None:
        """Files claimed by a process that is gone (or by this pid, before a restart) go back."""
        for path in self.directory.glob(f"*{SUFFIX}{CLAIM}*"):
            pid = int(path.name.rsplit(CLAIM, 1)[1].split("-")[0] or 0)
            if pid == os.getpid() or not _alive(pid):
                original = path.with_name(path.name.split(CLAIM, 1)[0])
                try:
                    path.rename(original)
                except OSError:
                    continue

    def size(self) -> int:
        total = 0
        for path in self.directory.iterdir():
            try:
                total += path.stat().st_size
            except FileNotFoundError:
                continue
        return total

    def write(self, body: bytes, rows: int) -> bool:
        """Store one batch; False (and counted) when the cap refuses it."""
        with self._lock:
            if self.size() + len(body) > self.max_bytes:
                self.dropped_rows += rows
                self.dropped_batches += 1
                log.warning(
                    "steward spool %s is full (%d bytes cap): dropped a batch of %d rows "
                    "(%d dropped so far)",
                    self.directory,
                    self.max_bytes,
                    rows,
                    self.dropped_rows,
                )
                return False
            self._seq += 1
            name = f"{time.time_ns():020d}-{os.getpid()}-{self._seq:08d}-{rows}{SUFFIX}"
            tmp = self.directory / f".{name}.tmp"
            with open(tmp, "wb") as out:
                out.write(body)
                out.flush()
                os.fsync(out.fileno())
            tmp.rename(self.directory / name)
            return True

    def pending(self) -> list[Path]:
        """Unclaimed batches, oldest first."""
        return sorted(self.directory.glob(f"*{SUFFIX}"))

    def pending_rows(self) -> int:
        rows = 0
        for path in self.directory.iterdir():
            if SUFFIX in path.name and not path.name.startswith("."):
                rows += _rows_of(path.name)
        return rows

    def claim_oldest(self) -> Batch | None:
        """Rename the oldest batch to a name of this process; None when there is none."""
        for path in self.pending():
            claimed = path.with_name(f"{path.name}{CLAIM}{os.getpid()}-{threading.get_ident()}")
            try:
                path.rename(claimed)
            except FileNotFoundError:
                continue  # another logger took it
            return Batch(claimed, _rows_of(path.name))
        return None

    def done(self, batch: Batch) -> None:
        batch.path.unlink(missing_ok=True)

    def release(self, batch: Batch) -> None:
        """Give a claimed batch back (its send failed): it keeps its place in the order."""
        original = batch.path.with_name(batch.path.name.split(CLAIM, 1)[0])
        batch.path.rename(original)


def _rows_of(name: str) -> int:
    try:
        return int(name.split(SUFFIX, 1)[0].rsplit("-", 1)[1])
    except (IndexError, ValueError):
        return 0


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
