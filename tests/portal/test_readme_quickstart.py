"""The README's curl quickstart runs as written against a live server."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
from pathlib import Path

import pytest

from registry.models import Artifact, Deployment
from registry.roles import DATA_SCIENTISTS
from tests import factories

README = Path(__file__).resolve().parents[2] / "README.md"


def quickstart_script() -> str:
    text = README.read_text()
    block = re.search(r"<!-- quickstart:start -->\s*```bash\n(.*?)```", text, re.S)
    assert block, "README has no quickstart block"
    return block.group(1)


@pytest.mark.django_db(transaction=True)
def test_readme_quickstart_works_as_written(live_server, tmp_path, settings):
    user = factories.UserFactory(username="scientist", roles=[DATA_SCIENTISTS])
    user.set_password("steward-scientist")
    user.save()
    env = os.environ | {"STEWARD": live_server.url}
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", quickstart_script()],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.split()
    expected = hashlib.sha256((tmp_path / "model.bin").read_bytes()).hexdigest()
    artifact = Artifact.objects.get(version__model__name="Loan default")
    assert artifact.sha256 == expected
    # Step 4 prints the server's digest, then sha256sum's: they are the same.
    assert lines.count(expected) == 2
    deployment = Deployment.objects.get(version=artifact.version)
    assert (deployment.environment, lines[-1]) == ("staging", "active")
