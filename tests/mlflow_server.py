"""A real MLflow tracking server for the bridge's tests and benchmark.

`mlflow server` needs the full `mlflow` package, which Steward does not depend on (it uses
`mlflow-skinny`, the client). The server gets its own virtual environment, built on first use
under var/mlflow-server (or wherever STEWARD_MLFLOW_SERVER_BIN points: that folder's
`bin/`), under a file lock so parallel test workers build it once. The models are logged
and registered by that environment's Python too, as a data scientist's machine would.
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MLFLOW_VERSION = "3.17.2"  # the server's; the same as the pinned mlflow-skinny client
DEFAULT_VENV = ROOT / "var" / "mlflow-server"


def server_bin() -> Path:
    """The server environment's bin/ folder, built when missing."""
    configured = os.environ.get("STEWARD_MLFLOW_SERVER_BIN")
    if configured:
        return Path(configured)
    venv = DEFAULT_VENV
    venv.parent.mkdir(parents=True, exist_ok=True)
    with open(venv.parent / "mlflow-server.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        stamp = venv / f".installed-{MLFLOW_VERSION}"
        if not stamp.exists():
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
            subprocess.run(
                [
                    str(venv / "bin" / "python"),
                    "-m",
                    "pip",
                    "install",
                    "--quiet",
                    f"mlflow=={MLFLOW_VERSION}",
                    "scikit-learn",
                ],
                check=True,
            )
            stamp.touch()
    return venv / "bin"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class MlflowServer:
    """`mlflow server` on a free port with an SQLite backend and a local artifact store in
    `folder`; `stop()` kills it (the process group it leads) and `start()` brings it back
    on the same port with the same data."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.bin = server_bin()
        self.port = free_port()
        self.uri = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 120) -> None:
        log = open(self.folder / "server.log", "ab")  # noqa: SIM115 (kept for the process)
        self.process = subprocess.Popen(
            [
                str(self.bin / "mlflow"),
                "server",
                "--backend-store-uri",
                f"sqlite:///{self.folder / 'mlflow.db'}",
                "--artifacts-destination",
                str(self.folder / "artifacts"),
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--workers",
                "1",
            ],
            stdout=log,
            stderr=log,
            start_new_session=True,
            env={**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true"},
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError((self.folder / "server.log").read_text()[-3000:])
            try:
                with urllib.request.urlopen(f"{self.uri}/health", timeout=2) as reply:  # noqa: S310
                    if reply.status == 200:
                        return
            except OSError:
                time.sleep(0.5)
        raise RuntimeError(f"mlflow server did not start in {timeout} s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)
        self.process = None

    def run(self, code: str, timeout: float = 600) -> dict:
        """Run `code` in the server environment's Python with MLFLOW_TRACKING_URI set; it
        may print one JSON line last, which is returned."""
        env = {
            **os.environ,
            "MLFLOW_TRACKING_URI": self.uri,
            "MLFLOW_DISABLE_TELEMETRY": "true",
            "DO_NOT_TRACK": "true",
            "PYTHONWARNINGS": "ignore",
        }
        done = subprocess.run(
            [str(self.bin / "python"), "-c", textwrap.dedent(code)],
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=self.folder,
        )
        if done.returncode != 0:
            raise RuntimeError(done.stderr[-4000:])
        lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
        return json.loads(lines[-1]) if lines else {}

    def log_models(self, name: str, count: int = 1, *, seed: int = 0) -> list[str]:
        """Train and register `count` scikit-learn models as versions of `name`; returns their
        MLflow version numbers."""
        return self.run(
            f"""
            import json, mlflow, numpy as np
            from sklearn.datasets import load_breast_cancer
            from sklearn.linear_model import LogisticRegression
            X, y = load_breast_cancer(return_X_y=True)
            mlflow.set_experiment("steward-tests")
            versions = []
            for i in range({count}):
                c = 0.1 * (i + 1 + {seed})
                with mlflow.start_run():
                    model = LogisticRegression(C=c, max_iter=200).fit(X[:, :5], y)
                    mlflow.log_params({{"C": c, "max_iter": 200}})
                    mlflow.log_input(
                        mlflow.data.from_numpy(X[:, :5], targets=y, name="breast-cancer"),
                        context="training",
                    )
                    mlflow.log_metrics({{"accuracy": float(model.score(X[:, :5], y)), "n": 569}})
                    info = mlflow.sklearn.log_model(
                        model,
                        name="model",
                        registered_model_name={name!r},
                        pip_requirements=["scikit-learn"],
                    )
                    versions.append(str(info.registered_model_version))
            print(json.dumps({{"versions": versions}}))
            """
        )["versions"]


def start_server() -> tuple[MlflowServer, tempfile.TemporaryDirectory[str]]:
    folder = tempfile.TemporaryDirectory(prefix="steward-mlflow-server-")
    server = MlflowServer(Path(folder.name))
    server.start()
    return server, folder
