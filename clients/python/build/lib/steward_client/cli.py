"""`steward`: the client for CI pipelines. Every command takes `--json` (the server's object
as JSON on stdout); the URL and token come from `--url` / `--token` or `STEWARD_URL` /
`STEWARD_TOKEN`.

    steward register --model SLUG --file model.pkl [--schema F] [--metrics F] [--code-ref R]
    steward request-approval --version ID [--kind version|production --endpoint URL]
    steward status --request ID [--wait] [--timeout S]   exit 0 approved, 1 rejected,
                                                          2 expired / withdrawn, 3 timeout
    steward deploy --version ID --environment staging --endpoint URL
    steward report export (--version ID | --deployment ID) [--output F.pdf] [--timeout S]
    steward report verify F.pdf                           exit 0 valid, 1 not
    steward audit verify                                  exit 0 intact, 1 not
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from steward_client.client import Steward
from steward_client.errors import StewardError

APPROVED, REJECTED, CLOSED, TIMEOUT, ERROR = 0, 1, 2, 3, 4
STATE_EXIT = {"approved": APPROVED, "rejected": REJECTED, "expired": CLOSED, "withdrawn": CLOSED}


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        client = Steward(args.url, args.token)
    except StewardError as exc:
        print(f"steward: {exc}", file=sys.stderr)
        return ERROR
    try:
        with client:
            code: int = args.handler(client, args)
            return code
    except StewardError as exc:
        if args.json:
            print(json.dumps({"error": str(exc), "status": exc.status, "fields": exc.fields}))
        else:
            print(f"steward: {exc}", file=sys.stderr)
        return ERROR


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="steward", description=__doc__.split("\n\n")[0])
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--url", help="Steward's address (default: $STEWARD_URL)")
    common.add_argument("--token", help="API token (default: $STEWARD_TOKEN)")
    common.add_argument("--json", action="store_true", help="print JSON")
    commands = top.add_subparsers(dest="command", required=True)

    register = commands.add_parser("register", parents=[common], help="register a version")
    register.add_argument("--model", required=True, help="the model's slug")
    register.add_argument("--file", type=Path, help="the model file to upload")
    register.add_argument("--kind", default="model", help="the file's artifact kind")
    register.add_argument("--schema", type=Path, help="JSON file: the input schema")
    register.add_argument("--metrics", type=Path, help="JSON file: training metrics")
    register.add_argument("--params", type=Path, help="JSON file: hyper-parameters")
    register.add_argument("--code-ref", default="", help="REPOSITORY@COMMIT")
    register.add_argument("--description", default="")
    register.add_argument("--client-key", default="", help="idempotency key (e.g. the CI run)")
    register.set_defaults(handler=cmd_register)

    request = commands.add_parser("request-approval", parents=[common], help="open a request")
    request.add_argument("--version", type=int, required=True, help="the version's id")
    request.add_argument("--kind", default="version", choices=["version", "production"])
    request.add_argument("--endpoint", default="")
    request.add_argument("--comment", default="")
    request.set_defaults(handler=cmd_request_approval)

    status = commands.add_parser("status", parents=[common], help="an approval's state")
    status.add_argument("--request", type=int, required=True, help="the request's id")
    status.add_argument("--wait", action="store_true", help="wait until it is decided")
    status.add_argument("--timeout", type=float, default=3600.0, help="seconds (with --wait)")
    status.add_argument("--interval", type=float, default=5.0, help="seconds between polls")
    status.set_defaults(handler=cmd_status)

    deploy = commands.add_parser("deploy", parents=[common], help="deploy a version")
    deploy.add_argument("--version", type=int, required=True)
    deploy.add_argument("--environment", required=True, choices=["dev", "staging", "production"])
    deploy.add_argument("--endpoint", required=True)
    deploy.add_argument("--threshold", default=None, help="decision threshold")
    deploy.add_argument("--traffic-share", default=None, help="percent of traffic")
    deploy.add_argument("--description", default="")
    deploy.set_defaults(handler=cmd_deploy)

    report = commands.add_parser("report", help="signed reports").add_subparsers(
        dest="action", required=True
    )
    export = report.add_parser("export", parents=[common], help="export a signed PDF report")
    subject = export.add_mutually_exclusive_group(required=True)
    subject.add_argument("--version", type=int)
    subject.add_argument("--deployment", type=int)
    export.add_argument("--output", type=Path, help="download the PDF here")
    export.add_argument("--timeout", type=float, default=600.0)
    export.add_argument("--interval", type=float, default=2.0)
    export.set_defaults(handler=cmd_report_export)
    verify = report.add_parser("verify", parents=[common], help="verify a signed PDF report")
    verify.add_argument("file", type=Path)
    verify.set_defaults(handler=cmd_report_verify)

    audit = commands.add_parser("audit", help="the audit log").add_subparsers(
        dest="action", required=True
    )
    audit_verify = audit.add_parser("verify", parents=[common], help="check the hash chain")
    audit_verify.set_defaults(handler=cmd_audit_verify)
    return top


def show(args: argparse.Namespace, body: Any, line: str) -> None:
    print(json.dumps(body, indent=2, sort_keys=True) if args.json else line)


def _json_file(path: Path | None) -> Any:
    return json.loads(path.read_text()) if path else None


def cmd_register(client: Steward, args: argparse.Namespace) -> int:
    from steward_client.registration import parse_code_ref

    repository, commit = parse_code_ref(args.code_ref or None)
    fields: dict[str, Any] = {
        "input_schema": _json_file(args.schema) or [],
        "training_metrics": _json_file(args.metrics) or {},
        "hyperparameters": _json_file(args.params) or {},
        "code_repository": repository,
        "code_commit": commit,
        "description": args.description,
        "client_key": args.client_key,
    }
    version = client.create_version(args.model, **fields)
    artifact = None
    if args.file:
        existing = [a for a in client.artifacts(version["id"]) if a["name"] == args.file.name]
        artifact = (
            existing[0]
            if existing
            else client.upload_artifact(
                version["id"], args.file, kind=args.kind, name=args.file.name
            )
        )
    body = {**version, "artifact": artifact}
    show(args, body, f"{version['model']} v{version['number']} (version id {version['id']})")
    return 0


def cmd_request_approval(client: Steward, args: argparse.Namespace) -> int:
    extra = {"endpoint": args.endpoint} if args.endpoint else {}
    request = client.request_approval(args.version, kind=args.kind, comment=args.comment, **extra)
    show(args, request, f"approval request {request['id']}: {request['state']}")
    return 0


def cmd_status(client: Steward, args: argparse.Namespace) -> int:
    deadline = time.monotonic() + (args.timeout if args.wait else 0)
    while True:
        request = client.get_approval(args.request)
        state = request["state"]
        if state in STATE_EXIT or time.monotonic() >= deadline:
            break
        time.sleep(min(args.interval, max(0.0, deadline - time.monotonic())))
    show(args, request, f"approval request {request['id']}: {state}")
    return STATE_EXIT.get(state, TIMEOUT)


def cmd_deploy(client: Steward, args: argparse.Namespace) -> int:
    extra: dict[str, Any] = {"description": args.description}
    if args.threshold is not None:
        extra["decision_threshold"] = args.threshold
    if args.traffic_share is not None:
        extra["traffic_share"] = args.traffic_share
    deployment = client.deploy(
        args.version, environment=args.environment, endpoint=args.endpoint, **extra
    )
    show(args, deployment, f"deployment {deployment['id']}: {deployment['status']}")
    return 0


def cmd_report_export(client: Steward, args: argparse.Namespace) -> int:
    job = client.export_report(version=args.version, deployment=args.deployment)
    job = _poll(lambda: client.report_job(job["id"]), args.timeout, args.interval)
    if job["state"] != "succeeded":
        show(args, job, f"report job {job['id']}: {job['state']} {job.get('error') or ''}")
        return TIMEOUT if job["state"] not in ("failed", "cancelled") else ERROR
    export = (job.get("result") or {}).get("export")
    if args.output and export:
        client.download_report(int(export), args.output)
    show(args, job, f"report {export}: sha256 {(job.get('result') or {}).get('sha256')}")
    return 0


def _poll(fetch: Callable[[], dict[str, Any]], timeout: float, interval: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    job = fetch()
    while job["state"] not in ("succeeded", "failed", "cancelled"):
        if time.monotonic() >= deadline:
            break
        time.sleep(interval)
        job = fetch()
    return job


def cmd_report_verify(client: Steward, args: argparse.Namespace) -> int:
    verdict = client.verify_report(args.file)
    problems = "; ".join(verdict.get("problems") or [])
    show(args, verdict, f"{args.file}: {'valid' if verdict['ok'] else 'INVALID'} {problems}")
    return 0 if verdict["ok"] else 1


def cmd_audit_verify(client: Steward, args: argparse.Namespace) -> int:
    verdict = client.verify_audit()
    line = f"audit log: {'intact' if verdict['ok'] else 'BROKEN'}, {verdict['count']} entries"
    if not verdict["ok"]:
        line += f"; first bad entry {verdict.get('bad_seq')}: {verdict.get('reason')}"
    show(args, verdict, line)
    return 0 if verdict["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
