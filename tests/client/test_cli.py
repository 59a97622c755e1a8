"""`steward` against a live Steward: register (idempotent on --client-key), request-approval,
status with its exit codes, deploy, report export and verify, audit verify; --json output."""

from __future__ import annotations

import json
import threading
import time

import pytest
from steward_client import cli

from governance.approvals import services as approvals
from governance.approvals.models import ApprovalRequest
from governance.reports import jobs as report_jobs
from monitoring.choices import JobState
from monitoring.jobs.tasks import run_job
from monitoring.models import JobRun
from portal.security.tokens import token_issue
from registry.models import ModelVersion
from tests import factories
from tests.client.conftest import new_reviewer

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def run(live_server, owner, capsys):
    """Run the CLI as `user` (the owner by default); returns (exit code, parsed JSON)."""
    tokens: dict[int, str] = {}

    def invoke(*args: str, user=owner) -> tuple[int, object]:
        if user.pk not in tokens:
            tokens[user.pk] = token_issue(user=user, name="cli")[1]
        capsys.readouterr()
        code = cli.main([*args, "--url", live_server.url, "--token", tokens[user.pk], "--json"])
        out = capsys.readouterr().out
        return code, json.loads(out) if out.strip() else None

    return invoke


def test_register_is_idempotent_on_its_client_key_and_uploads_the_file(run, model_a, tmp_path):
    weights = tmp_path / "model.bin"
    weights.write_bytes(b"pretend weights")
    schema = tmp_path / "schema.json"
    schema.write_text(json.dumps([{"name": "age", "type": "numeric"}]))
    args = ["register", "--model", model_a.slug, "--file", str(weights), "--schema", str(schema)]
    args += ["--code-ref", "https://git.example.org/x@3f2c1e9a7b", "--client-key", "ci-run-41"]
    code, first = run(*args)
    assert code == 0 and first["number"] == 1 and first["artifact"]["kind"] == "model"
    code, again = run(*args)
    assert code == 0 and again["id"] == first["id"]
    assert again["artifact"]["id"] == first["artifact"]["id"]
    assert ModelVersion.objects.filter(model=model_a).count() == 1
    assert first["client_key"] == "ci-run-41" and first["code_commit"] == "3f2c1e9a7b"


def test_status_exit_codes_follow_the_request(run, model_a, reviewer):
    def opened() -> int:
        version = factories.model_version(model=model_a)
        from registry import services

        services.artifact_upload(
            version=version,
            actor=model_a.owner,
            upload=factories.binary_upload(f"weights {version.pk}".encode()),
            kind="model",
        )
        factories.answer_required_items(version)
        code, request = run("request-approval", "--version", str(version.pk))
        assert code == 0 and request["state"] == "pending"
        return int(request["id"])

    pending = opened()
    assert run("status", "--request", str(pending))[0] == cli.TIMEOUT
    code, body = run(
        "status", "--request", str(pending), "--wait", "--timeout", "0.3", "--interval", "0.1"
    )
    assert code == cli.TIMEOUT and body["state"] == "pending"

    request = ApprovalRequest.objects.get(pk=pending)
    groups = request.policy["required_groups"] or ["reviewers"]
    needed = max(request.policy["min_approvals"], len(groups))

    def approve_later() -> None:
        time.sleep(0.5)
        for i in range(needed):
            reviewer_i = new_reviewer(f"cli-approver-{i}")
            approvals.decide(request=request, actor=reviewer_i, verdict="approve")

    worker = threading.Thread(target=approve_later)
    worker.start()
    code, body = run(
        "status", "--request", str(pending), "--wait", "--timeout", "30", "--interval", "0.1"
    )
    worker.join()
    assert code == cli.APPROVED and body["state"] == "approved"

    rejected = opened()
    approvals.decide(
        request=ApprovalRequest.objects.get(pk=rejected),
        actor=reviewer,
        verdict="reject",
        comment="not yet",
    )
    assert run("status", "--request", str(rejected))[0] == cli.REJECTED

    withdrawn = opened()
    code, _ = run("status", "--request", str(withdrawn))
    approvals.withdraw(request=ApprovalRequest.objects.get(pk=withdrawn), actor=model_a.owner)
    assert run("status", "--request", str(withdrawn))[0] == cli.CLOSED


def test_deploy_and_errors_as_json(run, model_a):
    version = factories.model_version(model=model_a)
    code, deployment = run(
        "deploy",
        "--version",
        str(version.pk),
        "--environment",
        "staging",
        "--endpoint",
        "https://s.example.org/x",
        "--threshold",
        "0.4",
    )
    assert code == 0 and deployment["status"] == "active"
    assert deployment["environment"] == "staging"
    code, error = run(
        "deploy",
        "--version",
        str(version.pk),
        "--environment",
        "production",
        "--endpoint",
        "https://p.example.org/x",
    )
    assert code == cli.ERROR and error["status"] == 409
    code, error = run("register", "--model", "no-such-model")
    assert code == cli.ERROR and error["status"] == 404


def test_report_export_download_verify_and_audit_verify(
    run, live_server, signing_identity, tmp_path, reviewer
):
    version = factories.approved_version()

    def worker() -> None:
        """What a Celery worker does with the queued export (tested in tests/monitoring); the
        approval may have queued other jobs (a signed test log), which are not this test's."""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            job = JobRun.objects.filter(state=JobState.QUEUED, kind=report_jobs.KIND).first()
            if job is not None:
                run_job.run(job.pk)
                return
            time.sleep(0.1)

    thread = threading.Thread(target=worker)
    thread.start()
    pdf = tmp_path / "report.pdf"
    code, job = run(
        "report",
        "export",
        "--version",
        str(version.pk),
        "--output",
        str(pdf),
        "--interval",
        "0.2",
        user=version.model.owner,
    )
    thread.join()
    assert code == 0 and job["state"] == "succeeded", job
    assert pdf.read_bytes().startswith(b"%PDF")
    code, verdict = run("report", "verify", str(pdf), user=version.model.owner)
    assert code == 0 and verdict["ok"] is True
    tampered = tmp_path / "tampered.pdf"
    tampered.write_bytes(pdf.read_bytes() + b"\n%tampered\n")
    code, verdict = run("report", "verify", str(tampered), user=version.model.owner)
    assert code == 1 and verdict["ok"] is False
    code, audit = run("audit", "verify", user=reviewer)
    assert code == 0 and audit["ok"] is True and audit["count"] > 0
