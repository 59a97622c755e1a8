"""Verify a signed report with pyHanko. Pure: PDF bytes and trust roots in, a verdict out.

The verdict is pyHanko's overall judgement (`bottom_line`) and more: the signer's chain must
lead to a configured root, the signature must cover the entire file (an incremental update
appended after signing leaves the signature "intact" yet covers only a revision), and there
must be exactly one signature.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from collections.abc import Iterable
from dataclasses import dataclass, field

from asn1crypto import pem, x509
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.errors import SignatureValidationError
from pyhanko.sign.validation.status import PdfSignatureStatus, SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

from governance.reports.loops import outside_event_loop


@dataclass(frozen=True)
class ReportVerdict:
    """What a verifier learns about a file. `ok` only when every check passed; `problems`
    says, in words, each check that did not."""

    sha256: str
    signed: bool = False
    intact: bool = False
    valid: bool = False
    trusted: bool = False
    entire_file: bool = False
    unmodified: bool = False
    bottom_line: bool = False
    signer: str = ""
    signer_organisation: str = ""
    signed_at: dt.datetime | None = None
    timestamped_at: dt.datetime | None = None
    coverage: str = ""
    modification: str = ""
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return (
            self.signed
            and self.intact
            and self.valid
            and self.trusted
            and self.entire_file
            and self.unmodified
            and self.bottom_line
            and not self.problems
        )


def read_roots(blobs: Iterable[bytes]) -> list[x509.Certificate]:
    """Certificates from PEM or DER bytes (a PEM file may hold several)."""
    roots: list[x509.Certificate] = []
    for blob in blobs:
        if pem.detect(blob):
            roots.extend(x509.Certificate.load(der) for _, _, der in pem.unarmor(blob, True))
        else:
            roots.append(x509.Certificate.load(blob))
    return roots


def _name_part(name: x509.Name, key: str) -> str:
    return str(name.native.get(key, "")) if name else ""


def _problems(status: PdfSignatureStatus) -> list[str]:
    found = []
    if not status.intact:
        found.append("the signed bytes were changed: the document digest does not match")
    elif not status.valid:
        found.append("the signature value does not verify against the signer's key")
    if status.intact and status.valid and not status.trusted:
        found.append(
            "the signer's certificate does not chain to a trusted root"
            + (f" ({status.trust_problem_indic})" if status.trust_problem_indic else "")
        )
    if status.coverage != SignatureCoverageLevel.ENTIRE_FILE:
        found.append(
            "the signature does not cover the entire file: content was appended after signing"
        )
        level = status.modification_level
        if level is not None and level.name != "NONE":
            found.append(f"the file was modified after signing (pyHanko: {level.name})")
    if not status.bottom_line and not found:
        found.append("the validator's overall verdict is negative")
    return found


def verify_pdf(data: bytes, *, trust_roots: Iterable[x509.Certificate]) -> ReportVerdict:
    """Validate the file's one signature against `trust_roots` and say what holds."""
    digest = hashlib.sha256(data).hexdigest()
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        signatures = reader.embedded_signatures
    except (PdfError, ValueError, KeyError, TypeError) as exc:
        return ReportVerdict(sha256=digest, problems=[f"not a readable PDF: {exc}"])
    if not signatures:
        return ReportVerdict(sha256=digest, problems=["the file carries no signature"])
    context = ValidationContext(trust_roots=list(trust_roots))
    try:
        status = outside_event_loop(
            validate_pdf_signature, signatures[-1], signer_validation_context=context
        )
    except (SignatureValidationError, PdfError, ValueError) as exc:
        return ReportVerdict(
            sha256=digest, signed=True, problems=[f"the signature cannot be validated: {exc}"]
        )
    problems = _problems(status)
    if len(signatures) > 1:
        problems.append(f"the file carries {len(signatures)} signatures; a report has one")
    subject = status.signing_cert.subject
    modification = status.modification_level
    return ReportVerdict(
        sha256=digest,
        signed=True,
        intact=status.intact,
        valid=status.valid,
        trusted=status.trusted,
        entire_file=status.coverage == SignatureCoverageLevel.ENTIRE_FILE,
        unmodified=modification is not None and modification.name == "NONE",
        bottom_line=status.bottom_line,
        signer=_name_part(subject, "common_name"),
        signer_organisation=_name_part(subject, "organization_name"),
        signed_at=status.signer_reported_dt,
        timestamped_at=status.timestamp_validity.timestamp if status.timestamp_validity else None,
        coverage=status.coverage.name if status.coverage else "",
        modification=modification.name if modification else "",
        problems=problems,
    )
