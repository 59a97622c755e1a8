"""`PredictionLogger`: serving threads only enqueue; one background thread batches, sends,
retries, spools to disk while the server is away and replays the spool when it is back.

Every row carries a request id, which the server keeps unique per deployment, so any batch
may be sent again (after a timeout whose answer was lost, or from the spool) without storing
anything twice: repeats come back counted as `duplicates`.
"""

from __future__ import annotations

import atexit
import contextlib
import datetime as dt
import functools
import json
import logging
import math
import queue
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

try:
    import orjson
except ImportError:  # the standard library's json does the same, slower
    orjson = None  # type: ignore[assignment]

from steward_client.errors import StewardError, Unreachable, error_for, is_retryable
from steward_client.spool import Spool, default_root, spool_dir

if TYPE_CHECKING:
    from steward_client.client import Steward

log = logging.getLogger("steward_client.logger")
KINDS = ("predictions", "ground-truth")
_ORJSON_OPTIONS = (
    (orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_APPEND_NEWLINE | orjson.OPT_NON_STR_KEYS)
    if orjson is not None
    else 0
)
_STOP = object()


@dataclass
class LoggerStats:
    """Counters since the logger started (read them any time; written by the sender)."""

    logged: int = 0  # rows handed to log()
    accepted: int = 0  # rows the server stored
    duplicates: int = 0  # rows the server already had (resends)
    rejected: int = 0  # rows the server refused as invalid (reasons in the log)
    batches_sent: int = 0
    batches_spooled: int = 0
    batches_replayed: int = 0
    retries: int = 0
    dropped: int = 0  # rows lost because the spool was full (each with a warning)
    overflowed: int = 0  # rows written straight to the spool because the queue was full


class PredictionLogger:
    """Log prediction (or ground-truth) rows of one deployment without blocking the caller.

    `log()` puts the row on a bounded queue and returns; when the queue is full the row goes
    to the spool on the caller's thread (slower, never lost). `senders` threads (2) take
    batches from the queue, so one is encoded while another waits on the server (order is
    not kept, and need not be: every row has its timestamp). A batch leaves when it holds
    `batch_size` rows or its oldest row is `max_delay` seconds old. A failed send is retried
    `retries` times with exponential backoff, then spooled; while the server is away new
    batches go straight to the spool, and a probe replays the oldest spooled batch every
    backoff period until one gets through, then the rest follow, oldest first.
    """

    def __init__(
        self,
        client: Steward,
        deployment_id: int,
        *,
        kind: str = "predictions",
        batch_size: int = 2000,
        max_delay: float = 1.0,
        queue_size: int = 100_000,
        retries: int = 2,
        backoff: float = 0.2,
        max_backoff: float = 5.0,
        request_timeout: float = 10.0,
        senders: int = 2,
        spool_root: str | Path | None = None,
        spool_max_bytes: int = 256 * 1024 * 1024,
        close_at_exit: bool = True,
        exit_timeout: float = 30.0,
    ) -> None:
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}")
        self.deployment_id = deployment_id
        self.kind = kind
        self.batch_size = batch_size
        self.max_delay = max_delay
        self.retries = retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.stats = LoggerStats()
        self._stats_lock = threading.Lock()  # senders and serving threads all count
        root = Path(spool_root) if spool_root else default_root()
        self.spool = Spool(
            spool_dir(root, client.base_url, deployment_id, kind), max_bytes=spool_max_bytes
        )
        self._path = f"deployments/{deployment_id}/{kind}/?on_error=skip"
        self._http = httpx.Client(
            base_url=f"{client.base_url}/api/v1/",
            headers={"Authorization": f"Token {client.token}", "Accept": "application/json"},
            timeout=request_timeout,
        )
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=queue_size)
        self._flushing = threading.Event()
        self._stopping = threading.Event()
        self._request_timeout = request_timeout
        self._idle = threading.Condition()
        self._server_down_until = 0.0
        self._down_backoff = backoff
        self._closed = False
        # Two senders by default: one batch is encoded while another waits on the server.
        self._threads = [
            threading.Thread(
                target=self._run, name=f"steward-logger-{deployment_id}-{kind}-{n}", daemon=True
            )
            for n in range(max(1, senders))
        ]
        for thread in self._threads:
            thread.start()
        self._at_exit = functools.partial(self.close, exit_timeout)
        if close_at_exit:
            atexit.register(self._at_exit)

    # --- the serving side ------------------------------------------------------------------

    def log(
        self,
        request_id: str,
        features: Mapping[str, Any],
        prediction: Any = None,
        score: float | None = None,
        latency_ms: float | None = None,
        *,
        scores: Mapping[Any, float] | None = None,
        status: str | None = None,
        error: str | None = None,
        timestamp: float | dt.datetime | str | None = None,
        **extra: Any,
    ) -> None:
        """Enqueue one prediction; returns at once. `timestamp` defaults to now. `scores`: a
        multiclass model's probability of every class ({class: p}, summing to 1), from which
        Steward computes and estimates macro one-vs-rest ROC AUC."""
        row: dict[str, Any] = {
            "request_id": request_id,
            "timestamp": time.time() if timestamp is None else timestamp,
            "features": features,
        }
        if prediction is not None:
            row["prediction"] = prediction
        if score is not None:
            row["score"] = score
        if scores is not None:  # class labels as text, as the events carry labels
            row["scores"] = {str(k): v for k, v in scores.items()}
        if latency_ms is not None:
            row["latency_ms"] = latency_ms
        if status is not None:
            row["status"] = status
        if error is not None:
            row["error"] = error
        if extra:
            row.update(extra)
        self.log_row(row)

    def log_row(self, row: dict[str, Any]) -> None:
        """Enqueue a row already in the wire format (ground truth: request_id, label/value)."""
        if self._closed:
            raise StewardError("the logger is closed")
        with self._stats_lock:
            self.stats.logged += 1
        try:
            self._queue.put_nowait(row)
        except queue.Full:
            self._count(overflowed=1)
            self._store([row])

    # --- flush and close -------------------------------------------------------------------

    def pending(self) -> int:
        """Rows not yet delivered: queued, in flight or spooled."""
        return self._queue.unfinished_tasks + self.spool.pending_rows()

    def flush(self, timeout: float = 30.0) -> int:
        """Wait until every row logged so far is delivered, spool included, or `timeout`
        seconds pass; returns how many rows are still waiting (0: all delivered). Rows
        still waiting stay in the spool for a later flush or the next logger."""
        deadline = time.monotonic() + timeout
        self._flushing.set()
        try:
            with self._idle:
                while self.pending() and time.monotonic() < deadline:
                    self._idle.wait(min(0.05, max(0.0, deadline - time.monotonic())))
        finally:
            self._flushing.clear()
        return self.pending()

    def close(self, timeout: float = 30.0) -> int:
        """Flush (up to `timeout`), stop the sender, and spool what is left in the queue.
        Also called at interpreter exit. Returns the rows left in the spool."""
        if self._closed:
            return self.spool.pending_rows()
        left = self.flush(timeout)
        self._closed = True
        self._stopping.set()  # the sender spools what it holds instead of sending it
        for _ in self._threads:
            with contextlib.suppress(queue.Full):  # a sender sees `_stopping` at its next batch
                self._queue.put(_STOP, timeout=1.0)
        for thread in self._threads:
            thread.join(timeout=self._request_timeout + 1.0)
        self._spool_queue()
        self._http.close()
        atexit.unregister(self._at_exit)
        if left:
            log.warning("steward logger closed with %d rows left in %s", left, self.spool.directory)
        return self.spool.pending_rows()

    def __enter__(self) -> PredictionLogger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _count(self, **deltas: int) -> None:
        with self._stats_lock:
            for name, delta in deltas.items():
                setattr(self.stats, name, getattr(self.stats, name) + delta)

    # --- the sender threads -----------------------------------------------------------------

    def _run(self) -> None:
        stopping = False
        while not stopping:
            rows, stopping = self._collect()
            stopping = stopping or self._stopping.is_set()
            try:
                if stopping:
                    if rows:
                        self._store(rows)  # closing past its timeout: keep them for later
                    break
                if rows:
                    self._deliver(rows)
                self._replay()
            except Exception:  # never let the sender die: keep the rows, log the surprise
                log.exception("steward logger: unexpected error; keeping the rows in the spool")
                self._keep_or_refuse(rows)
            finally:
                for _ in rows:
                    self._queue.task_done()
                with self._idle:
                    self._idle.notify_all()

    def _collect(self) -> tuple[list[dict[str, Any]], bool]:
        """Up to `batch_size` rows, waiting at most `max_delay` after the first (less when
        a flush is waiting)."""
        rows: list[dict[str, Any]] = []
        deadline: float | None = None
        while len(rows) < self.batch_size and not self._stopping.is_set():
            wait = self.max_delay if deadline is None else deadline - time.monotonic()
            if self._flushing.is_set():
                wait = 0.0 if rows else 0.05
            try:
                item = (
                    self._queue.get(timeout=max(0.0, wait))
                    if wait > 0
                    else self._queue.get_nowait()
                )
            except queue.Empty:
                return rows, False
            if item is _STOP:
                self._queue.task_done()
                return rows, True
            rows.append(item)
            if deadline is None:
                deadline = time.monotonic() + self.max_delay
        return rows, False

    def _deliver(self, rows: list[dict[str, Any]]) -> None:
        body = _encode(rows)
        if self._server_is_down() or self.spool.pending():
            # Keep the order: older spooled rows go first, and a server that is away is
            # probed by the replay, not by every new batch.
            self._store_body(body, len(rows))
            return
        for attempt in range(self.retries + 1):
            try:
                self._post(body)
                return
            except StewardError as exc:
                if not is_retryable(exc) and not _keep(exc):
                    self._refused(exc, len(rows))
                    return
                if attempt < self.retries:
                    self._count(retries=1)
                    time.sleep(min(self.max_backoff, self.backoff * 2**attempt))
        self._mark_down()
        self._store_body(body, len(rows))

    def _replay(self) -> None:
        """Send spooled batches, oldest first, while the server takes them."""
        while not self._server_is_down():
            batch = self.spool.claim_oldest()
            if batch is None:
                return
            try:
                self._post(batch.body())
            except StewardError as exc:
                if is_retryable(exc) or _keep(exc):
                    self.spool.release(batch)
                    self._mark_down()
                    return
                self._refused(exc, batch.rows)
            self.spool.done(batch)
            self._count(batches_replayed=1)
            with self._idle:
                self._idle.notify_all()
            if not self._queue.empty() and not self._flushing.is_set():
                return  # let fresh rows through between replayed batches

    def _post(self, body: bytes) -> None:
        try:
            response = self._http.post(
                self._path, content=body, headers={"Content-Type": "application/x-ndjson"}
            )
        except httpx.TransportError as exc:
            raise Unreachable(repr(exc)) from exc
        if response.status_code >= 400:
            raise error_for(response)
        result = response.json()
        self._count(
            batches_sent=1,
            accepted=int(result.get("accepted", 0)),
            duplicates=int(result.get("duplicates", 0)),
        )
        rejected = int(result.get("rejected_rows", 0))
        if rejected:
            self._count(rejected=rejected)
            log.warning(
                "steward refused %d rows of deployment %s: %s",
                rejected,
                self.deployment_id,
                result.get("rejected", [])[:5],
            )
        self._server_down_until = 0.0
        self._down_backoff = self.backoff

    def _keep_or_refuse(self, rows: list[dict[str, Any]]) -> None:
        """Spool rows after a surprise; rows that cannot even be encoded count as rejected."""
        try:
            self._store(rows)
        except Exception:
            self._count(rejected=len(rows))
            log.exception("steward logger: %d rows could not be encoded", len(rows))

    def _refused(self, exc: StewardError, rows: int) -> None:
        self._count(rejected=rows)
        log.error("steward refused a batch of %d rows: %s %s", rows, exc, exc.fields)

    def _server_is_down(self) -> bool:
        return time.monotonic() < self._server_down_until

    def _mark_down(self) -> None:
        self._server_down_until = time.monotonic() + self._down_backoff
        self._down_backoff = min(self.max_backoff, self._down_backoff * 2)

    def _store(self, rows: list[dict[str, Any]]) -> None:
        self._store_body(_encode(rows), len(rows))

    def _store_body(self, body: bytes, rows: int) -> None:
        if self.spool.write(body, rows):
            self._count(batches_spooled=1)
        else:
            self._count(dropped=rows)

    def _spool_queue(self) -> None:
        rows: list[dict[str, Any]] = []
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is not _STOP:
                rows.append(item)
            self._queue.task_done()
        for start in range(0, len(rows), self.batch_size):
            self._store(rows[start : start + self.batch_size])


def _keep(exc: StewardError) -> bool:
    """Refusals that say nothing about the rows (a token revoked, no deploy right, the
    deployment out of sight): keep the rows in the spool until someone fixes it."""
    return exc.status in (401, 403, 404)


def _encode(rows: list[dict[str, Any]]) -> bytes:
    """NDJSON, with orjson when it is installed (the `fast` extra: about twice as quick;
    NaN, infinities and numpy scalars come out as JSON without a Python pass)."""
    if orjson is not None:
        dumps, option = orjson.dumps, _ORJSON_OPTIONS
        return b"".join(dumps(_stamped(row), default=str, option=option) for row in rows)
    return b"".join(
        json.dumps(_wire(row), separators=(",", ":"), allow_nan=False, default=str).encode() + b"\n"
        for row in rows
    )


def _stamped(row: dict[str, Any]) -> dict[str, Any]:
    stamp = row.get("timestamp")
    if type(stamp) is float or type(stamp) is int:
        return {**row, "timestamp": _iso(float(stamp))}
    if isinstance(stamp, dt.datetime):
        return {**row, "timestamp": stamp.isoformat()}
    return row


def _wire(row: dict[str, Any]) -> dict[str, Any]:
    row = _stamped(row)
    features = row.get("features")
    if isinstance(features, Mapping):
        row["features"] = {k: _finite(v) for k, v in features.items()}
    for key in ("score", "latency_ms", "value"):
        if key in row:
            row[key] = _finite(row[key])
    scores = row.get("scores")
    if isinstance(scores, Mapping):  # numpy numbers as floats
        row["scores"] = {str(k): _finite(v) for k, v in scores.items()}
    return row


def _finite(value: Any) -> Any:
    """NaN and infinities are missing values on the wire (JSON has no NaN)."""
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        return _finite(value.item())
    return value


_SECONDS: dict[int, str] = {}


def _iso(epoch: float) -> str:
    """ISO 8601 in UTC with microseconds; the seconds part is formatted once per second."""
    whole, micro = divmod(round(epoch * 1_000_000), 1_000_000)
    prefix = _SECONDS.get(whole)
    if prefix is None:
        if len(_SECONDS) > 4096:
            _SECONDS.clear()
        prefix = _SECONDS[whole] = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole))
    return f"{prefix}.{micro:06d}+00:00"
