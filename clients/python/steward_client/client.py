"""`Steward`: a typed client for the REST API under /api/v1/ (the wire format is the contract;
the client never imports the server's code)."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, cast

import httpx

from steward_client.errors import ChecksumMismatch, StewardError, Unreachable, error_for

if TYPE_CHECKING:
    from steward_client.logger import PredictionLogger

JSON = dict[str, Any]
DEFAULT_TIMEOUT = 30.0


class HashingReader:
    """A file wrapper that hashes what is read from it, so an upload is digested while it
    streams (no second pass over a large file). Seeking back to 0 starts the digest again."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.digest = hashlib.sha256()
        self.name = getattr(raw, "name", "upload")

    def read(self, size: int = -1) -> bytes:
        chunk = self.raw.read(size)
        self.digest.update(chunk)
        return chunk

    def seek(self, offset: int, whence: int = 0) -> int:
        position = self.raw.seek(offset, whence)
        if position == 0:
            self.digest = hashlib.sha256()
        return position

    def tell(self) -> int:
        return self.raw.tell()

    def hexdigest(self) -> str:
        return self.digest.hexdigest()


class Steward:
    """One Steward server and one token. `base_url` is the site root (`https://steward.example.org`);
    both default to the environment's `STEWARD_URL` and `STEWARD_TOKEN`."""

    def __init__(
        self,
        base_url: str | None = None,
        token: str | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        base_url = base_url or os.environ.get("STEWARD_URL")
        token = token or os.environ.get("STEWARD_TOKEN")
        if not base_url:
            raise StewardError("no Steward URL: pass base_url or set STEWARD_URL")
        if not token:
            raise StewardError("no token: pass token or set STEWARD_TOKEN")
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self.http = httpx.Client(
            base_url=f"{self.base_url}/api/v1/",
            headers={"Authorization": f"Token {token}", "Accept": "application/json"},
            timeout=timeout,
            transport=transport,
            follow_redirects=False,
        )

    # --- plumbing --------------------------------------------------------------------------

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> Steward:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Send one request; raise the `StewardError` subclass of a refusal."""
        try:
            response = self.http.request(method, path.lstrip("/"), **kwargs)
        except httpx.TransportError as exc:
            raise Unreachable(f"{method} {path}: {exc!r}") from exc
        if response.status_code >= 400:
            raise error_for(response)
        return response

    def get(self, path: str, **params: Any) -> Any:
        clean = {k: v for k, v in params.items() if v is not None}
        return self.request("GET", path, params=clean).json()

    def post(self, path: str, body: Any = None, **kwargs: Any) -> Any:
        response = self.request("POST", path, json=body, **kwargs)
        return response.json() if response.content else None

    def paged(self, path: str, **params: Any) -> Iterator[JSON]:
        """Every item of a paginated list, page after page."""
        page = 1
        while True:
            body = self.get(path, page=page, **params)
            if isinstance(body, list):
                yield from body
                return
            yield from body["results"]
            if not body.get("next"):
                return
            page += 1

    # --- models and versions ---------------------------------------------------------------

    def create_model(self, *, name: str, task: str, **fields: Any) -> JSON:
        """Register a model (`task`: binary, multiclass or regression); returns it with its slug."""
        return cast("JSON", self.post("models/", {"name": name, "task": task, **fields}))

    def get_model(self, slug: str) -> JSON:
        return cast("JSON", self.get(f"models/{slug}/"))

    def models(self, **filters: Any) -> list[JSON]:
        return list(self.paged("models/", **filters))

    def update_model(self, slug: str, **fields: Any) -> JSON:
        return cast("JSON", self.request("PATCH", f"models/{slug}/", json=fields).json())

    def create_version(self, model: str, **fields: Any) -> JSON:
        """Register the model's next version (the server numbers it). With `client_key`, a
        repeat returns the version registered under that key."""
        return cast("JSON", self.post(f"models/{model}/versions/", fields))

    def versions(self, model: str) -> list[JSON]:
        return list(self.paged(f"models/{model}/versions/"))

    def find_version(self, model: str, client_key: str) -> JSON | None:
        """The version of `model` registered under `client_key`, if any."""
        found = self.get("versions/", model=model, client_key=client_key)["results"]
        return found[0] if found else None

    def register_version(self, *, model: str, estimator: Any, X_train: Any, **options: Any) -> JSON:
        """Register a trained estimator in one call (see `registration.register_version`):
        schema, model file, datasets with lineage, metrics, hyper-parameters, importance."""
        from steward_client.registration import register_version

        return register_version(self, model=model, estimator=estimator, X_train=X_train, **options)

    def get_version(self, version_id: int) -> JSON:
        return cast("JSON", self.get(f"versions/{version_id}/"))

    def submit_version(self, version_id: int) -> JSON:
        return cast("JSON", self.post(f"versions/{version_id}/submit/"))

    def archive_version(self, version_id: int) -> JSON:
        return cast("JSON", self.post(f"versions/{version_id}/archive/"))

    # --- artifacts and datasets ------------------------------------------------------------

    def upload_artifact(
        self,
        version_id: int,
        file: str | Path | IO[bytes],
        *,
        kind: str = "model",
        name: str = "",
        description: str = "",
    ) -> JSON:
        """Upload a file as an artifact; its sha256 is computed while it streams and must equal
        the one the server computed (`ChecksumMismatch` otherwise)."""
        data = {"kind": kind, "name": name, "description": description}
        artifact, digest = self._upload(f"versions/{version_id}/artifacts/", file, data)
        if artifact.get("sha256") != digest:
            raise ChecksumMismatch(
                f"artifact {artifact.get('id')}: server sha256 {artifact.get('sha256')} "
                f"differs from the uploaded file's {digest}",
                body=artifact,
            )
        return artifact

    def link_artifact(
        self, version_id: int, *, uri: str, kind: str, sha256: str = "", size: int | None = None
    ) -> JSON:
        """Record an artifact stored elsewhere (`oci://…@sha256:…` pins its digest)."""
        body = {"uri": uri, "kind": kind, "sha256": sha256, "size": size}
        return cast("JSON", self.post(f"versions/{version_id}/artifacts/", body))

    def artifacts(self, version_id: int) -> list[JSON]:
        return cast("list[JSON]", self.get(f"versions/{version_id}/artifacts/"))

    def download_artifact(self, artifact_id: int, destination: str | Path) -> Path:
        return self._download(f"artifacts/{artifact_id}/download/", Path(destination))

    def upload_dataset(
        self,
        model: str,
        file: str | Path | IO[bytes],
        *,
        name: str,
        kind: str,
        description: str = "",
        filename: str | None = None,
    ) -> JSON:
        """Upload a CSV or Parquet table (kind: training, validation or reference)."""
        data = {"model": model, "name": name, "kind": kind, "description": description}
        dataset, digest = self._upload("datasets/", file, data, filename=filename)
        if dataset.get("sha256") and dataset["sha256"] != digest:
            raise ChecksumMismatch(
                f"dataset {dataset.get('id')}: server sha256 {dataset['sha256']} differs "
                f"from the uploaded file's {digest}",
                body=dataset,
            )
        return dataset

    def datasets(self, **filters: Any) -> list[JSON]:
        return list(self.paged("datasets/", **filters))

    def _upload(
        self,
        path: str,
        file: str | Path | IO[bytes],
        data: Mapping[str, Any],
        *,
        filename: str | None = None,
    ) -> tuple[JSON, str]:
        if isinstance(file, str | Path):
            with open(file, "rb") as raw:
                return self._upload(path, raw, data, filename=filename or Path(file).name)
        reader = HashingReader(file)
        name = filename or Path(str(reader.name)).name
        fields = {k: str(v) for k, v in data.items() if v is not None}
        response = self.request("POST", path, data=fields, files={"file": (name, reader)})
        return response.json(), reader.hexdigest()

    def _download(self, path: str, destination: Path) -> Path:
        digest = hashlib.sha256()
        try:
            with self.http.stream("GET", path) as response:
                if response.status_code >= 400:
                    response.read()
                    raise error_for(response)
                expected = response.headers.get("X-Checksum-SHA256")
                with open(destination, "wb") as out:
                    for chunk in response.iter_bytes():
                        digest.update(chunk)
                        out.write(chunk)
        except httpx.TransportError as exc:
            raise Unreachable(f"GET {path}: {exc!r}") from exc
        if expected and expected != digest.hexdigest():
            raise ChecksumMismatch(f"{path}: downloaded sha256 differs from the server's")
        return destination

    # --- lineage and deployments -----------------------------------------------------------

    def add_lineage_edge(
        self, *, upstream: tuple[str, int], downstream: tuple[str, int], relation: str
    ) -> JSON:
        """Record `upstream -relation-> downstream`; nodes are (kind, id), e.g. ("dataset", 3)."""
        body = {
            "upstream_kind": upstream[0],
            "upstream_id": upstream[1],
            "downstream_kind": downstream[0],
            "downstream_id": downstream[1],
            "relation": relation,
        }
        return cast("JSON", self.post("lineage/edges/", body))

    def lineage(self, kind: str, node_id: int, *, direction: str = "both", depth: int = 3) -> JSON:
        return cast(
            "JSON", self.get(f"lineage/{kind}/{node_id}/", direction=direction, depth=depth)
        )

    def deploy(self, version_id: int, *, environment: str, endpoint: str, **fields: Any) -> JSON:
        """Create a deployment (production goes through an approved production request)."""
        body = {"version": version_id, "environment": environment, "endpoint": endpoint}
        return cast("JSON", self.post("deployments/", {**body, **_jsonable(fields)}))

    def get_deployment(self, deployment_id: int) -> JSON:
        return cast("JSON", self.get(f"deployments/{deployment_id}/"))

    def deployments(self, **filters: Any) -> list[JSON]:
        return list(self.paged("deployments/", **filters))

    def rollback(
        self, deployment_id: int, *, to_version: int | None = None, reason: str = ""
    ) -> JSON:
        body = {"to_version": to_version, "reason": reason}
        return cast("JSON", self.post(f"deployments/{deployment_id}/rollback/", body))

    def retire(self, deployment_id: int) -> JSON:
        return cast("JSON", self.post(f"deployments/{deployment_id}/retire/"))

    # --- approvals and readiness -----------------------------------------------------------

    def request_approval(
        self, version_id: int, *, kind: str = "version", comment: str = "", **fields: Any
    ) -> JSON:
        """Open an approval request (`kind`: version, or production with an endpoint)."""
        body = {"kind": kind, "version": version_id, "comment": comment}
        return cast("JSON", self.post("approvals/", {**body, **_jsonable(fields)}))

    def get_approval(self, request_id: int) -> JSON:
        return cast("JSON", self.get(f"approvals/{request_id}/"))

    def approvals(self, **filters: Any) -> list[JSON]:
        return list(self.paged("approvals/", **filters))

    def decide(self, request_id: int, *, verdict: str, comment: str = "", digest: str = "") -> JSON:
        body = {"verdict": verdict, "comment": comment, "manifest_digest": digest}
        return cast("JSON", self.post(f"approvals/{request_id}/decide/", body))

    def withdraw(self, request_id: int) -> JSON:
        return cast("JSON", self.post(f"approvals/{request_id}/withdraw/"))

    def readiness(self, version_id: int) -> JSON:
        return cast("JSON", self.get(f"versions/{version_id}/readiness/"))

    def answer_checklist(self, version_id: int, answers: Sequence[Mapping[str, Any]]) -> Any:
        """Answer checklist items, all or none: `[{"item": key, "answer": "yes", …}]`."""
        return self.post(f"versions/{version_id}/readiness/answers/", [dict(a) for a in answers])

    # --- monitoring ------------------------------------------------------------------------

    def log_predictions(self, deployment_id: int, events: Sequence[Mapping[str, Any]]) -> JSON:
        """Post one batch of prediction events at once (the logger does this in the background)."""
        return cast("JSON", self.post(f"deployments/{deployment_id}/predictions/", list(events)))

    def post_ground_truth(self, deployment_id: int, rows: Sequence[Mapping[str, Any]]) -> JSON:
        return cast("JSON", self.post(f"deployments/{deployment_id}/ground-truth/", list(rows)))

    def log_ground_truth(
        self, deployment_id: int, rows: Sequence[Mapping[str, Any]], *, timeout: float = 30.0
    ) -> int:
        """Send ground truth through a logger (batched, retried, spooled while the server is
        away); returns how many rows are still waiting in the spool after `timeout`."""
        from steward_client.logger import PredictionLogger

        with PredictionLogger(self, deployment_id, kind="ground-truth") as logger:
            for row in rows:
                logger.log_row(dict(row))
            return logger.flush(timeout=timeout)

    def prediction_logger(self, deployment_id: int, **options: Any) -> PredictionLogger:
        """A background logger for one deployment (see `PredictionLogger`)."""
        from steward_client.logger import PredictionLogger

        return PredictionLogger(self, deployment_id, **options)

    def layouts(self, version_id: int) -> JSON:
        """The layouts summaries of the version's deployments are built on (format, digest,
        one layout per feature and the prediction's); Conflict while it has no profile."""
        return cast("JSON", self.get(f"versions/{version_id}/layouts/"))

    def post_summaries(
        self,
        deployment_id: int,
        layouts_digest: str,
        hours: Sequence[Mapping[str, Any]],
        *,
        source: str | None = None,
    ) -> JSON:
        """Post hourly summaries (`steward_client.summary_mode.hourly_summaries`) instead of
        events. A source posting an hour again replaces what it posted for that hour."""
        body: dict[str, Any] = {"format": 1, "layout_digest": layouts_digest, "hours": list(hours)}
        if source is not None:
            body["source"] = source
        return cast("JSON", self.post(f"deployments/{deployment_id}/summaries/", body))

    def performance_settings(self, deployment_id: int) -> JSON:
        """How Steward decides a binary prediction of the deployment: {"positive_label",
        "threshold"} (its monitoring settings' positive label, its decision threshold or 0.5),
        what summary mode needs to count an hour's performance as Steward would."""
        deployment = self.get_deployment(deployment_id)
        settings = self.monitoring_settings(deployment_id)
        threshold = deployment.get("decision_threshold")
        return {
            "positive_label": settings.get("positive_label") or "1",
            # As the server reads it: no threshold (or zero) means 0.5.
            "threshold": float(threshold) if threshold and float(threshold) else 0.5,
        }

    def summary_logger(self, deployment_id: int, **options: Any) -> Any:
        """A logger that sends hourly summaries instead of events (`SummaryLogger`)."""
        from steward_client.summary_mode import SummaryLogger

        return SummaryLogger(self, deployment_id, **options)

    def predictions(self, deployment_id: int, **params: Any) -> JSON:
        return cast("JSON", self.get(f"deployments/{deployment_id}/predictions/", **params))

    def drift(self, deployment_id: int, **params: Any) -> list[JSON]:
        return cast("list[JSON]", self.get(f"deployments/{deployment_id}/drift/", **params))

    def performance(self, deployment_id: int, *, days: int = 30) -> list[JSON]:
        return cast("list[JSON]", self.get(f"deployments/{deployment_id}/performance/", days=days))

    def status(self, deployment_id: int) -> JSON:
        return cast("JSON", self.get(f"deployments/{deployment_id}/status/"))

    def monitoring_settings(self, deployment_id: int, **changes: Any) -> JSON:
        """The deployment's monitoring thresholds; with keyword arguments, change them
        (`positive_label`, `decision_threshold`, `thresholds`, `drift_methods`)."""
        path = f"deployments/{deployment_id}/monitoring-settings/"
        if not changes:
            return cast("JSON", self.get(path))
        return cast("JSON", self.request("PATCH", path, json=_jsonable(changes)).json())

    def rebuild_monitoring(self, deployment_id: int, *, since: str) -> JSON:
        return cast(
            "JSON", self.post(f"deployments/{deployment_id}/monitoring-rebuild/", {"since": since})
        )

    def alerts(self, **filters: Any) -> list[JSON]:
        return list(self.paged("alerts/", **filters))

    def acknowledge_alert(self, alert_id: int) -> JSON:
        return cast("JSON", self.post(f"alerts/{alert_id}/acknowledge/"))

    def resolve_alert(self, alert_id: int) -> JSON:
        return cast("JSON", self.post(f"alerts/{alert_id}/resolve/"))

    # --- reports and audit -----------------------------------------------------------------

    def export_report(self, *, version: int | None = None, deployment: int | None = None) -> JSON:
        """Queue a signed PDF report; returns the job (poll `report_job`)."""
        body = {"version": version} if version else {"deployment": deployment}
        return cast("JSON", self.post("reports/exports/", body))

    def report_job(self, job_id: int) -> JSON:
        return cast("JSON", self.get(f"reports/jobs/{job_id}/"))

    def reports(self, **filters: Any) -> list[JSON]:
        return list(self.paged("reports/exports/", **filters))

    def download_report(self, export_id: int, destination: str | Path) -> Path:
        return self._download(f"reports/exports/{export_id}/download/", Path(destination))

    def verify_report(self, file: str | Path) -> JSON:
        """The server's verdict on a signed PDF (signature, coverage, issued by this Steward)."""
        with open(file, "rb") as raw:
            name = Path(file).name
            return cast(
                "JSON", self.request("POST", "reports/verify/", files={"file": (name, raw)}).json()
            )

    def verify_audit(self) -> JSON:
        return cast("JSON", self.get("audit/verify/"))


def _jsonable(fields: Mapping[str, Any]) -> JSON:
    """Decimals and other numbers as JSON numbers or strings the API accepts."""
    return {k: (str(v) if type(v).__name__ == "Decimal" else v) for k, v in fields.items()}


# The name the summaries contract uses.
Client = Steward
