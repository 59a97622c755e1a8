"""With STEWARD_TSA_URL set, each signature carries an RFC 3161 timestamp from that
authority (here a local HTTP TSA backed by pyHanko's test timestamper), and verifies."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from asn1crypto import keys, tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pyhanko.sign.timestamps import DummyTimeStamper

from governance.reports import identity, services
from tests import factories


def tsa_identity(tmp: Path) -> tuple[DummyTimeStamper, Path]:
    """A timestamping certificate under its own root; returns the stamper and the root's path."""
    ca_key, ca_cert = identity.make_ca("Example TSA", 30)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)  # the stamper is RSA-only
    now = ca_cert.not_valid_before_utc
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Example TSA")]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(ca_cert.not_valid_after_utc)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    der = serialization.Encoding.DER
    stamper = DummyTimeStamper(
        tsa_cert=asn1_x509.Certificate.load(cert.public_bytes(der)),
        tsa_key=keys.PrivateKeyInfo.load(
            key.private_bytes(der, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        ),
    )
    root = tmp / "tsa-root.pem"
    root.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    return stamper, root


@pytest.fixture
def tsa_url(tmp_path) -> Iterator[tuple[str, Path, list[int]]]:
    """A local RFC 3161 endpoint; yields its URL, its root and a list counting requests."""
    stamper, root = tsa_identity(tmp_path)
    served: list[int] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            answer = stamper.request_tsa_response(tsp.TimeStampReq.load(body)).dump()
            served.append(len(answer))
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/tsa", root, served
    server.shutdown()


def test_export_with_a_tsa_carries_a_trusted_timestamp(db, signing_identity, settings, tsa_url):
    url, tsa_root, served = tsa_url
    settings.STEWARD_TSA_URL = url
    settings.STEWARD_SIGNING_TRUST_ROOTS = [signing_identity, tsa_root]
    version = factories.approved_version()
    export = services.report_export(actor=version.model.owner, version_id=version.pk)
    assert served and export.timestamped
    result = services.report_verify(export.file.read())
    assert result.ok, result.verdict.problems
    assert result.verdict.timestamped_at is not None
