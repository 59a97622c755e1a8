"""The one outbound sender: no webhook reaches the server's own network (SSRF), redirects are
not followed, the address is vetted once and connected to, and a claimed delivery is posted
once however often its task runs."""

from __future__ import annotations

import ast
import datetime as dt
import socket
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.db import connections
from django.utils import timezone

from governance.approvals import events, tasks, webhooks
from governance.approvals.models import WebhookDelivery, WebhookEndpoint
from governance.outbound import addresses, sender
from governance.outbound.addresses import validate_outbound_url
from governance.outbound.models import OutboundDelivery
from monitoring.models import AlertDelivery, AlertRule
from tests import factories
from tests.conftest import on_postgresql

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


class _Counter(BaseHTTPRequestHandler):
    """Counts the requests it gets; answers the codes of `answers` in turn (the last from then
    on), with `location` for a redirect, after `delay_s`."""

    received: list[tuple[str, dict[str, str]]]
    location = ""
    delay_s = 0.0

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        type(self).received.append((self.path, dict(self.headers)))
        time.sleep(type(self).delay_s)
        answers = type(self).answers
        self.send_response(answers.pop(0) if len(answers) > 1 else answers[0])
        if type(self).location:
            self.send_header("Location", type(self).location)
        self.end_headers()

    do_GET = do_POST

    def log_message(self, *args: object) -> None:
        pass


def _serve(answers: list[int], location: str = ""):
    handler = type("Receiver", (_Counter,), {"received": [], "answers": answers})
    handler.location = location
    server = HTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, handler


@pytest.fixture
def local_receiver():
    """A receiver on 127.0.0.1 that hostile URLs aim at and must never reach."""
    server, handler = _serve([200])
    yield server.server_port, handler
    server.shutdown()
    server.server_close()


@pytest.fixture
def http_allowed(settings):
    """http allowed, allow-list empty: what stops a URL below is the address rule alone."""
    settings.STEWARD_WEBHOOK_ALLOW_HTTP = True
    settings.STEWARD_WEBHOOK_ALLOWLIST = []


# Each aims at the local receiver (PORT) or at another address that must not be reached.
HOSTILE = [
    "http://127.0.0.1:PORT/hook",
    "http://localhost:PORT/hook",
    "http://LOCALHOST:PORT/hook",
    "http://localhost.:PORT/hook",
    "http://hooks.localhost:PORT/hook",
    "http://127.0.0.1.:PORT/hook",
    "HTTP://127.0.0.1:PORT/hook",
    "http://2130706433:PORT/hook",
    "http://0x7f.1:PORT/hook",
    "http://0x7f000001:PORT/hook",
    "http://0177.0.0.1:PORT/hook",
    "http://127.1:PORT/hook",
    "http://0.0.0.0:PORT/hook",
    "http://0:PORT/hook",
    "http://[::ffff:127.0.0.1]:PORT/hook",
    "http://[::ffff:7f00:1]:PORT/hook",
    "http://[::1]:PORT/hook",
    "http://[::]:PORT/hook",
    "http://evil@127.0.0.1:PORT/hook",
    "http://hooks.example.org:x@127.0.0.1:PORT/hook",
    "http://hooks.example.org\\@127.0.0.1:PORT/hook",
    "http://127.0.0.1:PORT#@hooks.example.org/",
    "http://169.254.169.254/latest/meta-data/",
    "http://[fd00:ec2::254]/latest/meta-data/",
    "http://100.100.100.200/latest/meta-data/",
    "http://10.0.0.1/hook",
    "http://172.16.0.1/hook",
    "http://192.168.1.1/hook",
    "http://224.0.0.1/hook",
    "http://[fe80::1]/hook",
    "http://[2002:7f00:1::]/hook",
    "http://[64:ff9b::7f00:1]/hook",
    "ftp://hooks.example.org/hook",
    "file:///etc/passwd",
    "gopher://127.0.0.1:PORT/_POST",
    "javascript:alert(1)",
    "https:///no-host",
]


@pytest.mark.parametrize("template", HOSTILE)
def test_a_hostile_url_is_refused_when_stored(template, http_allowed, local_receiver):
    url = template.replace("PORT", str(local_receiver[0]))
    with pytest.raises(ValidationError):
        validate_outbound_url(url)


@pytest.mark.parametrize("template", HOSTILE)
def test_a_hostile_url_is_refused_when_sent_and_never_reached(
    template, http_allowed, local_receiver, model_a, admin
):
    port, handler = local_receiver
    url = template.replace("PORT", str(port))
    # Stored past the validator, as a row written before it existed would be.
    endpoint = WebhookEndpoint.objects.create(name="x", url=url, secret="s" * 20, created_by=admin)
    row = WebhookDelivery.objects.create(
        endpoint=endpoint, event_seq=1, event="version.registered", payload={"a": 1}
    )
    assert webhooks.send(row.pk) is False
    row.refresh_from_db()
    assert (row.state, row.attempts, row.next_attempt_at) == ("failed", 1, None)
    assert row.error.startswith("attempt 1: refused: "), row.error
    assert handler.received == []


def test_an_alert_webhook_to_a_loopback_url_is_refused_when_sent(
    http_allowed, local_receiver, model_a, django_capture_on_commit_callbacks
):
    from monitoring.alerts import services
    from tests.monitoring.test_alerts import deployment_of, set_accuracy

    port, handler = local_receiver
    deployment = deployment_of(model_a)
    AlertRule.objects.create(  # stored past the validator, as an old row would be
        model=model_a,
        source="metric",
        name="accuracy",
        comparator="lt",
        threshold=0.8,
        webhook_url=f"http://[::ffff:127.0.0.1]:{port}/hook",
        webhook_secret="s3cret",
        created_by=model_a.owner,
    )
    set_accuracy(deployment, 0.2)
    with django_capture_on_commit_callbacks(execute=True):
        services.alerts_evaluate(deployment=deployment)
    row = AlertDelivery.objects.get()
    assert (row.state, row.attempts, row.next_attempt_at) == ("failed", 1, None)
    assert "refused" in row.error and "loopback" in row.error
    assert handler.received == []


@pytest.mark.parametrize(
    "template",
    ["http://127.0.0.1:PORT/hook", "http://2130706433:PORT/", "http://169.254.169.254/x"],
)
def test_the_api_answers_400_naming_the_url_field(
    template, http_allowed, local_receiver, api_as, model_a
):
    url = template.replace("PORT", str(local_receiver[0]))
    client = api_as(model_a.owner)
    hook = {"name": "x", "url": url, "secret": "s" * 20, "model": model_a.slug}
    answer = client.post("/api/v1/webhooks/", hook, format="json")
    assert answer.status_code == 400 and "url" in answer.json(), answer.content
    rule = {
        "model": model_a.pk,
        "source": "metric",
        "name": "accuracy",
        "comparator": "lt",
        "threshold": 0.7,
        "webhook_url": url,
    }
    answer = client.post("/api/v1/alert-rules/", rule, format="json")
    assert answer.status_code == 400 and "webhook_url" in answer.json(), answer.content
    assert not WebhookEndpoint.objects.exists() and not AlertRule.objects.exists()


def test_a_rule_patched_to_a_hostile_url_is_a_400_naming_the_field(http_allowed, api_as, model_a):
    created = api_as(model_a.owner).post(
        "/api/v1/alert-rules/",
        {
            "model": model_a.pk,
            "source": "metric",
            "name": "accuracy",
            "comparator": "lt",
            "threshold": 0.7,
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    answer = api_as(model_a.owner).patch(
        f"/api/v1/alert-rules/{created.json()['id']}/",
        {"webhook_url": "http://[::ffff:127.0.0.1]/"},
        format="json",
    )
    assert answer.status_code == 400 and "webhook_url" in answer.json(), answer.content


def test_http_needs_the_development_setting(settings):
    settings.STEWARD_WEBHOOK_ALLOW_HTTP = False
    with pytest.raises(ValidationError, match="must use https"):
        validate_outbound_url("http://93.184.216.34/hook")
    validate_outbound_url("https://93.184.216.34/hook")
    settings.STEWARD_WEBHOOK_ALLOW_HTTP = True
    validate_outbound_url("http://93.184.216.34/hook")


def test_the_allow_list_admits_internal_receivers_only(settings):
    settings.STEWARD_WEBHOOK_ALLOW_HTTP = True
    settings.STEWARD_WEBHOOK_ALLOWLIST = ["10.1.0.0/16", "127.0.0.1", "hooks.localhost"]
    for url in ("http://10.1.2.3/hook", "http://127.0.0.1:8080/", "http://hooks.localhost/"):
        validate_outbound_url(url)
    # A loopback name is allowed by its name only, not by the address it may resolve to.
    for url in (
        "http://10.2.0.1/",
        "http://127.0.0.2/",
        "http://169.254.169.254/",
        "http://localhost/",
    ):
        with pytest.raises(ValidationError):
            validate_outbound_url(url)


# --- redirects, rebinding, pinning -----------------------------------------------------------


def test_a_redirect_is_not_followed_and_fails_the_delivery(
    internal_receivers, local_receiver, model_a, admin
):
    inner_port, inner = local_receiver  # where the redirect points: must not be reached
    server, outer = _serve([302], location=f"http://127.0.0.1:{inner_port}/admin/")
    try:
        url = f"http://127.0.0.1:{server.server_port}/hook"
        WebhookEndpoint.objects.create(name="x", url=url, secret="s" * 20, created_by=admin)
        factories.model_version(model=model_a)
        (delivery_id,) = events.dispatch_pending()
        assert webhooks.send(delivery_id) is False
    finally:
        server.shutdown()
        server.server_close()
    row = WebhookDelivery.objects.get(pk=delivery_id)
    assert (row.state, row.status_code, row.next_attempt_at) == ("failed", 302, None)
    assert "redirects are not followed" in row.error
    assert len(outer.received) == 1 and inner.received == []


class _RebindingDNS:
    """A name server for `hooks.example.test` whose answers change between lookups, as an
    attacker's does; every other name goes to the real resolver."""

    def __init__(self, answers: list[str]) -> None:
        self.answers, self.lookups, self.real = answers, 0, socket.getaddrinfo

    def __call__(self, host, port, *args, **kwargs):
        if host != "hooks.example.test":
            return self.real(host, port, *args, **kwargs)
        answer = self.answers[min(self.lookups, len(self.answers) - 1)]
        self.lookups += 1
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (answer, port))]


def test_a_name_that_resolves_to_a_private_address_at_send_time_is_refused(
    http_allowed, local_receiver, api_as, model_a, monkeypatch
):
    port, handler = local_receiver
    dns = _RebindingDNS(["93.184.216.34"])  # public while the URL is stored
    monkeypatch.setattr(socket, "getaddrinfo", dns)
    hook = {
        "name": "x",
        "url": f"http://hooks.example.test:{port}/hook",
        "secret": "s" * 20,
        "model": model_a.slug,
    }
    assert api_as(model_a.owner).post("/api/v1/webhooks/", hook, format="json").status_code == 201
    factories.model_version(model=model_a)
    (delivery_id,) = events.dispatch_pending()
    dns.answers, dns.lookups = ["127.0.0.1"], 0  # and loopback when it is used
    assert webhooks.send(delivery_id) is False
    row = WebhookDelivery.objects.get(pk=delivery_id)
    assert row.state == "failed" and "resolves to 127.0.0.1, a loopback address" in row.error
    assert handler.received == []


def test_the_vetted_address_is_the_one_connected_to_and_the_host_header_is_kept(
    settings, local_receiver, model_a, admin, monkeypatch
):
    settings.STEWARD_WEBHOOK_ALLOW_HTTP = True
    settings.STEWARD_WEBHOOK_ALLOWLIST = ["127.0.0.1"]  # the internal receiver, allowed
    port, handler = local_receiver
    # Vetted as 127.0.0.1; a second lookup at connect time would get the metadata service.
    dns = _RebindingDNS(["127.0.0.1", "169.254.169.254"])
    monkeypatch.setattr(socket, "getaddrinfo", dns)
    url = f"http://hooks.example.test:{port}/hook?x=1"
    WebhookEndpoint.objects.create(name="x", url=url, secret="s" * 20, created_by=admin)
    factories.model_version(model=model_a)
    (delivery_id,) = events.dispatch_pending()
    assert webhooks.send(delivery_id) is True
    (path, headers) = handler.received[0]
    assert path == "/hook?x=1" and headers["Host"] == f"hooks.example.test:{port}"
    assert dns.lookups == 1


def _certificate(tmp_path: Path, name: str) -> tuple[Path, Path]:
    """A self-signed certificate for `name` (also its own CA) and its key, as PEM files."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / f"{name}.pem", tmp_path / f"{name}.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


@pytest.mark.parametrize("certified", ["hooks.example.test", "other.example.test"])
def test_https_to_the_vetted_address_checks_the_certificate_of_the_host_name(
    certified, settings, tmp_path, model_a, admin, monkeypatch
):
    settings.STEWARD_WEBHOOK_ALLOWLIST = ["127.0.0.1"]  # https only: the default
    cert_file, key_file = _certificate(tmp_path, certified)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert_file))  # the receiver's CA, trusted here
    server, handler = _serve([200])
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(cert_file, key_file)
    names: list[str | None] = []
    tls.sni_callback = lambda sock, name, ctx: names.append(name)
    server.socket = tls.wrap_socket(server.socket, server_side=True)
    monkeypatch.setattr(socket, "getaddrinfo", _RebindingDNS(["127.0.0.1"]))
    try:
        url = f"https://hooks.example.test:{server.server_port}/hook"
        WebhookEndpoint.objects.create(name="x", url=url, secret="s" * 20, created_by=admin)
        factories.model_version(model=model_a)
        (delivery_id,) = events.dispatch_pending()
        if certified == "hooks.example.test":
            assert webhooks.send(delivery_id) is True
            assert names == ["hooks.example.test"] and len(handler.received) == 1
        else:  # the certificate is for another name: no request is made
            with pytest.raises(webhooks.DeliveryFailed, match="CERTIFICATE_VERIFY_FAILED"):
                webhooks.send(delivery_id)
            assert handler.received == []
    finally:
        server.shutdown()
        server.server_close()


# --- the claim ---------------------------------------------------------------------------------


def test_a_redelivered_task_posts_once(internal_receivers, model_a, admin):
    server, handler = _serve([500, 200])
    try:
        url = f"http://127.0.0.1:{server.server_port}/hook"
        WebhookEndpoint.objects.create(name="x", url=url, secret="s" * 20, created_by=admin)
        factories.model_version(model=model_a)
        (delivery_id,) = events.dispatch_pending()
        with pytest.raises(webhooks.DeliveryFailed):
            tasks.deliver_webhook(delivery_id)  # answered 500: a retry is due in 5 s
        # The same task message again (acks_late redelivery) before the retry is due.
        assert tasks.deliver_webhook(delivery_id) is False
        assert tasks.deliver_webhook(delivery_id) is False
        assert len(handler.received) == 1
        row = WebhookDelivery.objects.get(pk=delivery_id)
        assert (row.state, row.attempts) == ("pending", 1)
        WebhookDelivery.objects.filter(pk=delivery_id).update(next_attempt_at=timezone.now())
        assert tasks.deliver_webhook(delivery_id) is True  # the retry, when due
        assert tasks.deliver_webhook(delivery_id) is True  # and once more: nothing to send
    finally:
        server.shutdown()
        server.server_close()
    assert len(handler.received) == 2
    assert {h["X-Steward-Delivery"] for _, h in handler.received} == {str(delivery_id)}


def test_a_delivery_held_by_a_live_worker_is_left_alone_and_a_dead_ones_is_taken_over(
    internal_receivers, local_receiver, model_a, admin
):
    port, handler = local_receiver
    url = f"http://127.0.0.1:{port}/hook"
    WebhookEndpoint.objects.create(name="x", url=url, secret="s" * 20, created_by=admin)
    factories.model_version(model=model_a)
    (delivery_id,) = events.dispatch_pending()
    held = WebhookDelivery.objects.get(pk=delivery_id)
    assert sender.claim(held, now=timezone.now())  # a worker took it and is posting
    assert webhooks.send(delivery_id) is False and handler.received == []
    gone = timezone.now() - sender.lease() - dt.timedelta(seconds=1)
    WebhookDelivery.objects.filter(pk=delivery_id).update(claimed_at=gone)  # it died
    assert webhooks.send(delivery_id) is True and len(handler.received) == 1
    assert WebhookDelivery.objects.get(pk=delivery_id).attempts == 2


@pytest.mark.django_db(transaction=True)
def test_two_workers_sending_the_same_delivery_at_once_post_it_once(
    internal_receivers, model_a, admin
):
    if not on_postgresql():
        pytest.skip("concurrent writers are a PostgreSQL matter; SQLite serialises them")
    server, handler = _serve([200])
    handler.delay_s = 0.5  # both workers are inside the sender while the first post is open
    url = f"http://127.0.0.1:{server.server_port}/hook"
    WebhookEndpoint.objects.create(name="x", url=url, secret="s" * 20, created_by=admin)
    factories.model_version(model=model_a)
    (delivery_id,) = events.dispatch_pending()
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            barrier.wait(timeout=10)
            webhooks.send(delivery_id)
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    server.shutdown()
    server.server_close()
    assert errors == [] and len(handler.received) == 1
    assert WebhookDelivery.objects.get(pk=delivery_id).state == "delivered"


def test_backoff_doubles_up_to_the_cap_and_stops_after_the_last_attempt():
    policy = sender.Policy(max_attempts=4, base_s=5, cap_s=12)
    now = timezone.now()
    waits = [policy.next_attempt_at(attempts=n, now=now) for n in (1, 2, 3, 4)]
    assert [(w - now).total_seconds() for w in waits[:3]] == [5, 10, 12]
    assert waits[3] is None


# --- guards for the whole class ----------------------------------------------------------------


def test_every_stored_outbound_url_carries_the_one_validator():
    def validated(model, name):
        return validate_outbound_url in model._meta.get_field(name).validators

    assert validated(WebhookEndpoint, "url")
    assert validated(AlertRule, "webhook_url")
    assert validated(AlertDelivery, "url")
    assert issubclass(WebhookDelivery, OutboundDelivery)
    assert issubclass(AlertDelivery, OutboundDelivery)


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def test_only_the_outbound_module_makes_http_requests():
    http = ("urllib.request", "http.client", "requests", "httpx", "aiohttp", "urllib3")
    offenders = [
        str(path.relative_to(ROOT))
        for app in ("governance", "monitoring", "registry", "portal")
        for path in (ROOT / app).rglob("*.py")
        if "outbound" not in path.parts
        and any(name == h or name.startswith(h + ".") for name in _imports(path) for h in http)
    ]
    assert offenders == []


def test_the_outbound_module_is_a_leaf():
    steward = ("registry", "monitoring", "portal", "governance")
    for path in (ROOT / "governance" / "outbound").rglob("*.py"):
        for name in _imports(path):
            if name.split(".")[0] in steward:
                assert name.startswith("governance.outbound"), (path.name, name)


def test_refusals_say_why():
    target = addresses.parse("https://[::ffff:169.254.169.254]/")
    with pytest.raises(addresses.Refused, match="link-local"):
        addresses.resolve(target)
