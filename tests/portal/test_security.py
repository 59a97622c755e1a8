"""Security settings as a client meets them: response headers and the CSP, sign-in lockout,
expiring and revocable API tokens, size caps, CSV formula neutralisation, and the two CI
checks (committed secrets, vulnerable dependencies)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import sys
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command

from governance.models import AuditEvent
from portal.models import ApiToken
from portal.security.lockout import cool_off_words
from portal.security.tokens import digest, is_expired, token_issue, token_revoke
from registry.roles import AUDITORS
from tests import factories

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
import audit_dependencies  # noqa: E402
import check_secrets  # noqa: E402

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"  # factories.UserFactory's
TOKEN_URL = "/api/v1/auth/token/"


def directives(header: str) -> dict[str, list[str]]:
    parsed = {}
    for part in header.split(";"):
        name, *values = part.split()
        parsed[name] = values
    return parsed


# --- headers and the Content-Security-Policy ---------------------------------------------


@pytest.mark.parametrize("path", ["/", "/api/v1/models/", "/login/"])
def test_every_html_and_api_response_carries_the_security_headers(client, owner, path):
    client.force_login(owner)
    response = client.get(path, secure=True)
    assert response.status_code in (200, 302)
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Strict-Transport-Security"].startswith("max-age=31536000")
    policy = directives(response["Content-Security-Policy"])
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]


def test_pages_carry_no_inline_script_the_policy_would_block(client, owner, model_a):
    client.force_login(owner)
    for path in ("/", f"/registry/models/{model_a.slug}/", "/governance/reports/"):
        response = client.get(path)
        assert response.status_code == 200, path
        html = response.content.decode()
        for tag in re.findall(r"<script\b[^>]*>", html):
            assert "src=" in tag or 'type="application/json"' in tag, (path, tag)
        assert not re.search(r"\son(click|load|change|submit)=", html), path


def test_the_api_docs_relax_styles_only_and_load_their_start_up_script_as_a_file(client, owner):
    client.force_login(owner)
    page = client.get("/api/docs/")
    policy = directives(page["Content-Security-Policy"])
    assert policy["script-src"] == ["'self'"]
    assert "'unsafe-inline'" in policy["style-src"]
    html = page.content.decode()
    [start_up] = re.findall(r'<script src="([^"]*script=[^"]*)"', html)
    script = client.get(start_up.replace("&amp;", "&"))
    assert script.status_code == 200 and "SwaggerUIBundle" in script.content.decode()
    assert (
        "'unsafe-inline'"
        not in directives(client.get("/").get("Content-Security-Policy"))["style-src"]
    )


def test_the_session_cookie_is_http_only_and_secure_in_production(client, owner, settings):
    settings.SESSION_COOKIE_SECURE = True
    settings.CSRF_COOKIE_SECURE = True
    assert client.get("/login/").cookies[settings.CSRF_COOKIE_NAME]["secure"]
    response = client.post("/login/", {"username": owner.username, "password": PASSWORD})
    session = response.cookies[settings.SESSION_COOKIE_NAME]
    assert session["httponly"] and session["secure"]


# --- sign-in lockout -----------------------------------------------------------------------


def fail(client, username: str, times: int, **extra):
    return [
        client.post("/login/", {"username": username, "password": "wrong-guess"}, **extra)
        for _ in range(times)
    ]


def test_repeated_failures_lock_the_name_out_with_a_clear_message_and_an_audit_entry(
    client, owner, settings
):
    limit = settings.AXES_FAILURE_LIMIT
    assert limit == 5
    *before, locking = fail(client, owner.username, limit)
    assert all(r.status_code == 200 for r in before)
    assert locking.status_code == 429
    assert "Too many failed sign-ins" in locking.content.decode()
    # The right password no longer helps while the lock holds.
    right = client.post("/login/", {"username": owner.username, "password": PASSWORD})
    assert right.status_code == 429 and "_auth_user_id" not in client.session
    fail(client, owner.username, 1)  # refused again: no second lockout entry
    [event] = AuditEvent.objects.filter(action="auth.locked_out")
    assert event.after == {"username": owner.username, "ip_address": "127.0.0.1", "failures": 5}
    assert (event.target_type, event.target_id) == ("auth.user", str(owner.pk))


def test_the_lock_is_per_address_and_an_administrator_can_lift_it(client, owner, settings):
    fail(client, owner.username, settings.AXES_FAILURE_LIMIT)
    elsewhere = client.post(
        "/login/", {"username": owner.username, "password": PASSWORD}, REMOTE_ADDR="10.9.8.7"
    )
    assert elsewhere.status_code == 302
    client.logout()
    call_command("axes_reset_username", owner.username, stdout=io.StringIO())
    again = client.post("/login/", {"username": owner.username, "password": PASSWORD})
    assert again.status_code == 302


def test_the_token_endpoint_counts_failures_and_answers_429_when_locked(api, owner, settings):
    wrong = {"username": owner.username, "password": "wrong-guess"}
    codes = [api.post(TOKEN_URL, wrong, format="json").status_code for _ in range(5)]
    assert codes == [400, 400, 400, 400, 429]
    right = api.post(TOKEN_URL, {"username": owner.username, "password": PASSWORD}, format="json")
    assert right.status_code == 429
    assert right.json()["code"] == "locked_out" and "Too many" in right.json()["detail"]
    assert not ApiToken.objects.filter(user=owner).exists()


def test_cool_off_is_said_in_words():
    assert cool_off_words(dt.timedelta(minutes=30)) == "for 30 minutes"
    assert cool_off_words(dt.timedelta(hours=2)) == "for 2 hours"
    assert cool_off_words(None) == "until an administrator lifts it"


# --- API tokens ----------------------------------------------------------------------------


def obtain(api, user) -> dict:
    response = api.post(TOKEN_URL, {"username": user.username, "password": PASSWORD})
    assert response.status_code == 200, response.content
    return response.json()


def test_a_token_works_until_it_expires_then_a_new_one_is_issued(api, owner, settings):
    body = obtain(api, owner)
    assert AuditEvent.objects.filter(action="auth.token_issued", actor=owner).count() == 1
    api.credentials(HTTP_AUTHORIZATION=f"Token {body['token']}")
    assert api.get("/api/v1/models/").status_code == 200
    ApiToken.objects.filter(digest=digest(body["token"])).update(expires_at=dt.datetime.now(dt.UTC))
    expired = api.get("/api/v1/models/")
    assert expired.status_code == 401 and "expired" in expired.json()["detail"]
    api.credentials()
    fresh = obtain(api, owner)
    assert fresh["token"] != body["token"]


def test_revoking_ones_own_token_makes_it_fail_at_once(api, owner):
    key = obtain(api, owner)["token"]
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api.delete(TOKEN_URL).status_code == 204
    refused = api.get("/api/v1/models/")
    assert refused.status_code == 401 and "revoked" in refused.json()["detail"]
    [event] = AuditEvent.objects.filter(action="auth.token_revoked")
    assert event.actor_id == owner.pk and key not in str(event.after)


def test_revoking_needs_a_signed_in_caller(api, db):
    assert api.delete(TOKEN_URL).status_code == 401


def test_only_an_administrator_or_the_command_revokes_another_users_tokens(owner, outsider, admin):
    token_issue(user=owner)
    with pytest.raises(PermissionDenied):
        token_revoke(actor=outsider, user=owner)
    assert ApiToken.objects.filter(user=owner).exists()
    assert token_revoke(actor=admin, user=owner) == 1
    token_issue(user=owner)
    out = io.StringIO()
    call_command("revoke_tokens", owner.username, reason="laptop lost", stdout=out)
    assert "1 token revoked" in out.getvalue()
    assert not ApiToken.objects.filter(user=owner).exists()
    last = AuditEvent.objects.filter(action="auth.token_revoked").order_by("-seq").first()
    assert last.actor_name == "manage.py revoke_tokens"
    assert last.after["reason"] == "laptop lost" and len(last.after["tokens"]) == 1


def test_expiry_is_exact_at_the_boundary():
    issued = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    ttl = dt.timedelta(hours=1)
    assert not is_expired(issued, now=issued + ttl - dt.timedelta(seconds=1), ttl=ttl)
    assert is_expired(issued, now=issued + ttl, ttl=ttl)


# --- size caps -----------------------------------------------------------------------------


def test_a_body_over_the_request_cap_is_413_json_for_the_api_and_a_page_for_people(
    client, owner, settings
):
    settings.STEWARD_MAX_REQUEST_BYTES = 1000
    client.force_login(owner)
    body = b"x" * 2000
    api = client.post("/api/v1/datasets/", body, content_type="application/octet-stream")
    assert api.status_code == 413 and "larger than this server accepts" in api.json()["detail"]
    page = client.post("/login/", body, content_type="application/x-www-form-urlencoded")
    assert page.status_code == 413 and "too large" in page.content.decode()


def test_form_fields_over_the_memory_limit_are_413_not_400_or_500(client, owner, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 200
    page = client.post("/login/", {"username": "u" * 500, "password": "p"})
    assert page.status_code == 413 and "too large" in page.content.decode()
    client.force_login(owner)
    api = client.post("/api/v1/models/", {"name": "n" * 500})  # multipart
    assert api.status_code == 413 and "form fields" in api.json()["detail"]


# --- CSV exports ---------------------------------------------------------------------------


# A response built with a text/csv content type (an uploaded file's content type is not one).
ANSWERS_CSV = re.compile(r"Response\((?:[^()]|\([^()]*\))*content_type=[\"']text/csv", re.S)


def test_the_shared_csv_helper_writes_every_csv_export():
    """Every module that answers text/csv goes through governance.audit.export."""
    answering = []
    for path in ROOT.glob("*/**/*.py"):
        parts = path.relative_to(ROOT).parts
        if parts[0] in {"tests", ".venv", "var", "bench"} or "migrations" in parts:
            continue
        text = path.read_text()
        if ANSWERS_CSV.search(text):
            answering.append(path)
            assert "governance.audit.export import" in text, path
    assert answering, "no CSV export found: the scan is looking in the wrong place"


def test_a_formula_typed_into_a_model_name_reaches_the_export_neutralised(api_as, owner):
    auditor = factories.UserFactory(username="audra", roles=[AUDITORS])
    for name in ("=HYPERLINK(1)", "+SUM(A1)", "-2+3", "@cmd"):
        factories.registered_model(owner=owner, name=name)
    response = api_as(auditor).get("/api/v1/audit/events/export.csv")
    text = b"".join(response.streaming_content).decode()
    reprs = [row["target_repr"] for row in csv.DictReader(io.StringIO(text))]
    shown = [r for r in reprs if r.lstrip("'")[:1] in "=+-@" and r.lstrip("'")]
    assert len(shown) >= 4 and all(r.startswith("'") for r in shown)


# --- the CI checks -------------------------------------------------------------------------

# Built from pieces so that this file itself holds no secret-looking line.
PLANTED = {
    "key.txt": "-----BEGIN " + "RSA PRIVATE KEY-----\nMIIB\n",
    "cloud.md": "id: AKIA" + "Z7Q3M2X9K4T1B8VW\n",
    "settings_local.py": 'DB_PASSWORD = "' + "h7Gq2-Lm9x" + '"\n',
}


@pytest.mark.parametrize("name", sorted(PLANTED))
def test_the_secret_scan_flags_a_planted_secret(tmp_path, name, capsys):
    planted = tmp_path / name
    planted.write_text(PLANTED[name])
    assert check_secrets.main([str(planted)]) == 1
    out = capsys.readouterr().out
    assert f"{planted}:" in out and PLANTED[name].split()[-1] not in out


def test_the_secret_scan_lets_public_and_marked_values_through(tmp_path):
    fine = tmp_path / "conf.py"
    fine.write_text(
        'ADMIN_PASSWORD = "steward-admin"\n'
        'SECRET_KEY = env_str("SECRET_KEY", "")\n'
        'API_KEY = "' + "h7Gq2-Lm9x" + '"  # secret-scan: allow\n'
    )
    assert check_secrets.main([str(fine)]) == 0
    (tmp_path / "server.pem").write_text("certificate")
    assert check_secrets.main([str(tmp_path / "server.pem")]) == 1


def test_the_repository_holds_no_secret():
    assert check_secrets.main([]) == 0


def report(*deps: dict) -> dict:
    return {"dependencies": list(deps), "fixes": []}


def test_the_dependency_audit_fails_on_a_known_vulnerability(monkeypatch, capsys, tmp_path):
    lock = tmp_path / "requirements.lock"
    lock.write_text("django==1.0\n")
    vulnerable = report(
        {"name": "django", "version": "1.0", "vulns": [{"id": "PYSEC-1", "fix_versions": ["1.1"]}]}
    )
    monkeypatch.setattr(audit_dependencies, "run_pip_audit", lambda _: (vulnerable, ""))
    assert audit_dependencies.main([str(lock)]) == 1
    assert "django==1.0: PYSEC-1 (fixed in: 1.1)" in capsys.readouterr().out


def test_the_dependency_audit_says_when_it_could_not_run(monkeypatch, capsys, tmp_path):
    lock = tmp_path / "requirements.lock"
    lock.write_text("django==5.2\n")
    unanswered = report({"name": "django", "version": "5.2", "skip_reason": "not found on PyPI"})
    monkeypatch.setattr(audit_dependencies, "run_pip_audit", lambda _: (unanswered, ""))
    monkeypatch.delenv("STEWARD_REQUIRE_AUDIT", raising=False)
    assert audit_dependencies.main([str(lock)]) == 0
    assert "NOT RUN" in capsys.readouterr().out
    monkeypatch.setenv("STEWARD_REQUIRE_AUDIT", "1")
    assert audit_dependencies.main([str(lock)]) == 1
    clean = report({"name": "django", "version": "5.2", "vulns": []})
    monkeypatch.setattr(audit_dependencies, "run_pip_audit", lambda _: (clean, ""))
    assert audit_dependencies.main([str(lock)]) == 0
    assert "1 packages, no known vulnerabilities" in capsys.readouterr().out
