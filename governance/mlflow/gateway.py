"""The one module that talks to MLflow. It hands the rest of the bridge plain dataclasses,
never MLflow's own objects, so the client package can change under it.

MLflow's client reads credentials, timeouts and retries from environment variables only; they
are set for the duration of each call under a lock (`_session`), so two connections' syncs in
one process never see each other's credentials.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings

ALIAS_TAG_PREFIX = "steward.alias."  # the fallback where a server has no aliases
_ENV_LOCK = threading.RLock()


class MlflowUnavailable(Exception):
    """The tracking server could not be reached or refused a call."""


@dataclass(frozen=True)
class Credentials:
    tracking_uri: str
    username: str = ""
    password: str = ""
    token: str = ""


@dataclass(frozen=True)
class RemoteModel:
    name: str
    description: str
    tags: dict[str, str]
    aliases: dict[str, str]  # alias -> version
    last_updated_ms: int


@dataclass(frozen=True)
class RemoteVersion:
    name: str
    version: str
    run_id: str
    source: str
    status: str
    description: str
    user_id: str
    tags: dict[str, str]
    last_updated_ms: int


@dataclass(frozen=True)
class RemoteRun:
    params: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    user: str = ""
    # Inputs logged with mlflow.log_input: name, digest, source type and source, context,
    # and the schema and profile MLflow recorded (dicts).
    datasets: list[dict[str, Any]] = field(default_factory=list)


@contextmanager
def _session(creds: Credentials) -> Iterator[Any]:
    """An MlflowClient for `creds`, with their credentials and the configured timeout in the
    environment for as long as the block runs; MLflow's errors come out as MlflowUnavailable."""
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    wanted = {
        # download_artifacts resolves models:/ URIs through the process-wide URIs
        "MLFLOW_TRACKING_URI": creds.tracking_uri,
        "MLFLOW_REGISTRY_URI": creds.tracking_uri,
        "MLFLOW_TRACKING_USERNAME": creds.username,
        "MLFLOW_TRACKING_PASSWORD": creds.password,
        "MLFLOW_TRACKING_TOKEN": creds.token,
        "MLFLOW_HTTP_REQUEST_TIMEOUT": str(settings.STEWARD_MLFLOW_TIMEOUT_S),
        "MLFLOW_HTTP_REQUEST_MAX_RETRIES": str(settings.STEWARD_MLFLOW_MAX_RETRIES),
        "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
    }
    with _ENV_LOCK:
        saved = {name: os.environ.get(name) for name in wanted}
        for name, value in wanted.items():
            if value:
                os.environ[name] = value
            else:
                os.environ.pop(name, None)
        try:
            yield MlflowClient(tracking_uri=creds.tracking_uri, registry_uri=creds.tracking_uri)
        except MlflowException as exc:
            raise MlflowUnavailable(f"MLflow at {creds.tracking_uri}: {exc.message}") from exc
        except OSError as exc:  # requests' connection errors are OSErrors
            raise MlflowUnavailable(f"MLflow at {creds.tracking_uri}: {exc}") from exc
        finally:
            for name, old in saved.items():
                if old is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = old


def _model(rm: Any) -> RemoteModel:
    tags = dict(rm.tags or {})
    aliases = dict(rm.aliases or {})
    for key, value in tags.items():  # servers without aliases: Steward's fallback tags
        if key.startswith(ALIAS_TAG_PREFIX):
            aliases.setdefault(key[len(ALIAS_TAG_PREFIX) :], value)
    return RemoteModel(
        name=rm.name,
        description=rm.description or "",
        tags=tags,
        aliases={k: str(v) for k, v in aliases.items()},
        last_updated_ms=int(rm.last_updated_timestamp or 0),
    )


def list_models(creds: Credentials, names: list[str]) -> list[RemoteModel]:
    """The registered models named that exist (all of the server's when `names` is empty)."""
    wanted = set(names)
    with _session(creds) as client:
        found: list[RemoteModel] = []
        token = None
        while True:
            page = client.search_registered_models(max_results=500, page_token=token)
            found += [_model(rm) for rm in page if not wanted or rm.name in wanted]
            token = page.token
            if not token:
                return found


def list_versions(creds: Credentials, name: str) -> list[RemoteVersion]:
    """Every version of the registered model `name`."""
    quoted = name.replace("'", "\\'")
    with _session(creds) as client:
        found: list[RemoteVersion] = []
        token = None
        while True:
            page = client.search_model_versions(f"name='{quoted}'", page_token=token)
            found += [
                RemoteVersion(
                    name=mv.name,
                    version=str(mv.version),
                    run_id=mv.run_id or "",
                    source=mv.source or "",
                    status=mv.status or "",
                    description=mv.description or "",
                    user_id=mv.user_id or "",
                    tags=dict(mv.tags or {}),
                    last_updated_ms=int(mv.last_updated_timestamp or 0),
                )
                for mv in page
            ]
            token = page.token
            if not token:
                return found


def get_run(creds: Credentials, run_id: str) -> RemoteRun:
    with _session(creds) as client:
        run = client.get_run(run_id)
        return RemoteRun(
            params=dict(run.data.params),
            metrics={k: float(v) for k, v in run.data.metrics.items()},
            tags=dict(run.data.tags),
            user=run.info.user_id or "",
            datasets=[_dataset(d) for d in (run.inputs.dataset_inputs if run.inputs else [])],
        )


def _dataset(logged: Any) -> dict[str, Any]:
    tags = {t.key: t.value for t in logged.tags or []}
    ds = logged.dataset
    return {
        "name": ds.name or "",
        "digest": ds.digest or "",
        "source_type": ds.source_type or "",
        "source": (ds.source or "")[:2000],
        "context": tags.get("mlflow.data.context", ""),
        # MLflow keeps these as JSON text; {} when absent or unreadable.
        "schema": _json_object(ds.schema),
        "profile": _json_object(ds.profile),
    }


def _json_object(text: str | None) -> dict[str, Any]:
    import json

    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def download_version(creds: Credentials, name: str, version: str, dst: Path) -> Path:
    """Fetch the version's model files (through `models:/NAME/VERSION`, which finds them in
    MLflow 3's logged-model store as well as in a run's artifacts) into `dst`."""
    import mlflow.artifacts

    with _session(creds):
        path = mlflow.artifacts.download_artifacts(
            artifact_uri=f"models:/{name}/{version}",
            dst_path=str(dst),
            tracking_uri=creds.tracking_uri,
            registry_uri=creds.tracking_uri,
        )
    return Path(path)


def set_alias(creds: Credentials, name: str, alias: str, version: str | None) -> str:
    """Point `alias` of model `name` at `version` (None: remove it). Returns "alias", or "tag"
    when the server has no aliases and the fallback tag was written instead."""
    from mlflow.exceptions import MlflowException

    with _session(creds) as client:
        try:
            if version is None:
                client.delete_registered_model_alias(name, alias)
            else:
                client.set_registered_model_alias(name, alias, version)
            return "alias"
        except MlflowException as exc:
            if exc.error_code not in ("ENDPOINT_NOT_FOUND", "NOT_IMPLEMENTED"):
                raise
        if version is None:
            client.delete_registered_model_tag(name, ALIAS_TAG_PREFIX + alias)
        else:
            client.set_registered_model_tag(name, ALIAS_TAG_PREFIX + alias, version)
        return "tag"


def get_alias(creds: Credentials, name: str, alias: str) -> str:
    """The version `alias` of model `name` names in MLflow ("" when none), read back through
    the same path the sync reads (aliases, else Steward's fallback tag)."""
    with _session(creds) as client:
        return _model(client.get_registered_model(name)).aliases.get(alias, "")


def version_url(tracking_uri: str, name: str, version: str) -> str:
    """The MLflow UI's page of a model version ("" when the URI is no web address)."""
    from urllib.parse import quote

    if not tracking_uri.startswith(("http://", "https://")):
        return ""
    return f"{tracking_uri.rstrip('/')}/#/models/{quote(name, safe='')}/versions/{version}"


def run_url(tracking_uri: str, run_id: str) -> str:
    if not tracking_uri.startswith(("http://", "https://")):
        return ""
    return f"{tracking_uri.rstrip('/')}/#/runs/{run_id}"
