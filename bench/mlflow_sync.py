"""MLflow sync benchmark: a first sync of 200 model versions from a real MLflow server, then a
sync with nothing changed.

The script starts `mlflow server` (tests/mlflow_server.py: its own virtual environment under
var/mlflow-server, built on first use; SQLite backend, local artifact store, a free port),
logs and registers `--versions` scikit-learn models spread over `--models` registered models
(untimed), migrates the database named by DATABASE_URL (default
postgres://postgres@127.0.0.1:5432/mlflow_bench, created if missing) and times:

- the first `connection_sync`: every version read (run, model files), stored with its
  artifacts' sha256 and audited;
- a second `connection_sync` with nothing changed upstream (the goal: under 5 s for 200).

Usage: .venv/bin/python bench/mlflow_sync.py [--versions 200] [--models 10]
The last line is `RESULT mlflow_versions_per_s=<n> mlflow_resync_s=<s>`.
"""

from __future__ import annotations

import argparse
import os
import time

from harness import ensure_database, setup_django

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/mlflow_bench"


def log_versions(server: object, prefix: str, versions: int, models: int) -> float:
    """`versions` versions over `models` names: one scikit-learn model logged per name, then
    registered again until the count is reached (each version is a version of its own to
    MLflow and to the sync, which downloads its files). Returns seconds."""
    started = time.perf_counter()
    server.run(  # type: ignore[attr-defined]
        f"""
        import mlflow
        from sklearn.datasets import load_breast_cancer
        from sklearn.linear_model import LogisticRegression
        X, y = load_breast_cancer(return_X_y=True)
        mlflow.set_experiment({prefix!r})
        uris = []
        for i in range({models}):
            with mlflow.start_run():
                model = LogisticRegression(C=0.1 * (i + 1), max_iter=100).fit(X[:, :4], y)
                mlflow.log_params({{"C": 0.1 * (i + 1)}})
                mlflow.log_metric("accuracy", float(model.score(X[:, :4], y)))
                info = mlflow.sklearn.log_model(
                    model, name="model", registered_model_name=f"{prefix}-{{i}}"
                )
                uris.append(info.model_uri)
        for i in range({models}, {versions}):
            mlflow.register_model(uris[i % {models}], f"{prefix}-{{i % {models}}}")
        """,
        timeout=3600,
    )
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--versions", type=int, default=200)
    parser.add_argument("--models", type=int, default=10)
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", DEFAULT_URL)
    if url.startswith(("postgres://", "postgresql://")):
        ensure_database(url)
    setup_django(url, "bench-mlflow")
    from governance.audit.models import AuditEvent
    from governance.mlflow import connections
    from governance.mlflow.sync import connection_sync
    from tests.mlflow_server import start_server

    started = time.perf_counter()
    server, folder = start_server()
    boot_s = time.perf_counter() - started
    try:
        prefix = f"bench-{server.port}"
        log_s = log_versions(server, prefix, args.versions, args.models)
        connection = connections.connection_create(
            actor=None,
            tracking_uri=server.uri,
            model_names=[f"{prefix}-{i}" for i in range(args.models)],
        )
        audit_before = AuditEvent.objects.count()
        started = time.perf_counter()
        first = connection_sync(connection=connection)
        first_s = time.perf_counter() - started
        audit_first = AuditEvent.objects.count() - audit_before
        started = time.perf_counter()
        second = connection_sync(connection=connection)
        resync_s = time.perf_counter() - started
        audit_second = AuditEvent.objects.count() - audit_before - audit_first
    finally:
        server.stop()
        folder.cleanup()
    if first.versions_created != args.versions or first.errors:
        raise SystemExit(f"first sync mirrored {first.versions_created}: {first.errors}")
    if second.versions_unchanged != args.versions or audit_second:
        raise SystemExit(f"the second sync was not a no-op: {second.as_dict()}")
    rate = args.versions / first_s
    print(f"mlflow server start (untimed)       {boot_s:>10.1f} s")
    print(f"log and register {args.versions} versions (untimed) {log_s:>6.1f} s")
    print(f"first sync: {args.versions} versions, {args.models} models  {first_s:>8.1f} s")
    print(f"  versions per second               {rate:>10.1f}")
    print(f"  audit entries written             {audit_first:>10}")
    print(f"no-change sync                      {resync_s:>10.2f} s  (goal < 5 s)")
    print(f"  audit entries written             {audit_second:>10}")
    print(f"RESULT mlflow_versions_per_s={rate:.1f} mlflow_resync_s={resync_s:.2f}")


if __name__ == "__main__":
    main()
