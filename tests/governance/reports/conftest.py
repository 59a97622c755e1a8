"""A signing identity per test: a self-signed root and a signer under it, made by the
`create_signing_identity` command into the test's own folder."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import call_command


@pytest.fixture
def signing_identity(settings, tmp_path) -> Path:
    """The configured identity (PKCS#12 with a passphrase) and its root; returns the root."""
    keys = tmp_path / "report-keys"
    settings.STEWARD_SIGNING_PKCS12 = keys / "signer.p12"
    settings.STEWARD_SIGNING_PASSPHRASE = "test passphrase"
    settings.STEWARD_SIGNING_TRUST_ROOTS = [keys / "root.pem"]
    settings.STEWARD_TSA_URL = ""
    call_command("create_signing_identity", stdout=open("/dev/null", "w"))  # noqa: SIM115
    return keys / "root.pem"
