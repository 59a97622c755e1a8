#!/usr/bin/env python3
"""Fail when a secret is committed: private keys, cloud and service tokens, key files, and
passwords or keys written as literals in configuration.

    python scripts/check_secrets.py            # the repository's files (git's view of them)
    python scripts/check_secrets.py PATH ...   # only these files

Exit status 0: nothing found; 1: findings, one line each (`path:line: kind`); the matched
value itself is never printed. Standard library only, so it runs before anything installs.

Public values are allowed by name below (the demo logins are printed in README.md on purpose;
the test suite's SECRET_KEY says it is not for production). A line that carries the comment
`secret-scan: allow` is skipped too: use it for a test fixture that must look like a secret.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MAX_BYTES = 2 * 1024 * 1024
ALLOW_MARK = "secret-scan: allow"
SKIP_DIRS = {".git", ".venv", "var", "artifacts", "node_modules", "__pycache__", "build"}

# Values that look like secrets but are public by design, and why.
PUBLIC_VALUES = {
    "steward-admin": "demo login (README.md)",
    "steward-scientist": "demo login (README.md)",
    "steward-reviewer": "demo login (README.md)",
    "steward-auditor": "demo login (README.md)",
    "tests-only-secret-key-not-for-production-0123456789": "pytest's SECRET_KEY",
    "steward-insecure-development-key-change-me-0123456789abcdefghijklmnop": "DEBUG-only key",
}

# Anywhere in any text file.
TOKEN_PATTERNS = {
    "private key": re.compile(
        r"-----BEGIN (?:RSA |EC |DSA |OPENSSH |ENCRYPTED |PGP )?PRIVATE KEY(?: BLOCK)?-----"
    ),
    "AWS access key id": re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    "AWS secret access key": re.compile(
        r"(?i)aws_?secret_?access_?key\s*[:=]\s*['\"]?[A-Za-z0-9/+=]{40}\b"
    ),
    "GitHub token": re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{40,})"),
    "Slack token": re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}"),
    "Google API key": re.compile(r"\bAIza[0-9A-Za-z_\-]{35}\b"),
    "Stripe live key": re.compile(r"\b[sr]k_live_[0-9A-Za-z]{20,}\b"),
    "PyPI upload token": re.compile(r"\bpypi-AgE[A-Za-z0-9_\-]{50,}"),
}

# A quoted literal assigned to a secret-looking name, in code and configuration files.
ASSIGNED_SECRET = re.compile(
    r"""(?ix)
    \b[\w.-]*(?:password|passwd|secret|api_?key|access_?key|private_?key|auth_?token|token)\b
    ["']?\s*(?::|=|:=)\s*
    (?P<quote>["'])(?P<value>[^"'\s]{8,})(?P=quote)
    """
)
ASSIGNMENT_SUFFIXES = {
    ".py", ".toml", ".cfg", ".ini", ".env", ".yml", ".yaml", ".json", ".sh", ".conf",
}  # fmt: skip
# Test code names fake secrets on purpose (webhook secrets, wrong passwords): only the token
# patterns apply there.
FIXTURE_DIRS = ("tests/",)
KEY_FILE_SUFFIXES = {".pem", ".key", ".p12", ".pfx", ".jks", ".keystore"}
KEY_FILE_NAMES = {"id_rsa", "id_dsa", "id_ecdsa", "id_ed25519", ".env", ".pypirc", ".netrc"}


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    kind: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.kind}"


def looks_like_placeholder(value: str) -> bool:
    """Template variables, env look-ups and obvious fillers are not secrets."""
    lowered = value.lower()
    return (
        value in PUBLIC_VALUES
        or value.startswith(("$", "{", "%(", "<"))
        or any(word in lowered for word in ("example", "changeme", "placeholder", "xxxxxx"))
        or len(set(value)) < 4
    )


def scan_text(text: str, *, path: str) -> Iterator[Finding]:
    """Findings in one file's text."""
    name = Path(path)
    assignments = (
        name.suffix in ASSIGNMENT_SUFFIXES or name.name.startswith(".env")
    ) and not path.startswith(FIXTURE_DIRS)
    for number, line in enumerate(text.splitlines(), start=1):
        if ALLOW_MARK in line:
            continue
        for kind, pattern in TOKEN_PATTERNS.items():
            if pattern.search(line):
                yield Finding(path, number, kind)
        if assignments:
            for match in ASSIGNED_SECRET.finditer(line):
                if not looks_like_placeholder(match.group("value")):
                    yield Finding(path, number, "secret-looking literal assigned to a name")


def key_file(path: Path) -> bool:
    return path.suffix.lower() in KEY_FILE_SUFFIXES or path.name in KEY_FILE_NAMES


def repository_files(root: Path) -> list[Path]:
    """Tracked files plus new ones git does not ignore; a plain walk outside a git checkout."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],  # noqa: S607
            cwd=root,
            capture_output=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return [
            p
            for p in root.rglob("*")
            if p.is_file() and not SKIP_DIRS.intersection(p.relative_to(root).parts)
        ]
    names = {name for name in listed.decode().split("\0") if name}
    return [root / name for name in sorted(names) if (root / name).is_file()]


def scan_files(paths: Iterable[Path], *, root: Path) -> list[Finding]:
    findings: list[Finding] = []
    for path in paths:
        shown = str(path.relative_to(root)) if path.is_relative_to(root) else str(path)
        if key_file(path):
            findings.append(Finding(shown, 0, "key or credentials file"))
            continue
        raw = path.read_bytes()[:MAX_BYTES]
        if b"\0" in raw:
            continue  # binary
        findings.extend(scan_text(raw.decode("utf-8", errors="replace"), path=shown))
    return findings


def main(argv: list[str]) -> int:
    paths = [Path(a).resolve() for a in argv] if argv else repository_files(ROOT)
    findings = scan_files(paths, root=ROOT)
    for finding in findings:
        print(finding)
    if findings:
        print(
            f"secret scan: {len(findings)} finding(s). Remove the secret (and rotate it), or "
            f"mark a deliberate test value with '{ALLOW_MARK}'.",
            file=sys.stderr,
        )
        return 1
    print(f"secret scan: {len(paths)} files, nothing found")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
