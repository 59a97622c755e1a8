"""PAdES signatures over rendered reports. Pure: PDF bytes in, signed PDF bytes out.

The signature is a PAdES baseline signature (ETSI.CAdES.detached) made with the key and
certificate chain of a PKCS#12 file; with a TSA URL it carries an RFC 3161 timestamp
(baseline B-T), otherwise the signing time is the signer's own claim (B-B).
"""

from __future__ import annotations

import io
from pathlib import Path

from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers, timestamps
from pyhanko.sign.timestamps.api import TimeStamper

from governance.reports.loops import outside_event_loop

FIELD_NAME = "StewardSignature"


class SigningError(Exception):
    """The signing identity cannot be loaded (a missing file or a wrong passphrase)."""


def load_signer(pkcs12_path: Path, passphrase: str) -> signers.SimpleSigner:
    """The signer (key, certificate and chain) held in a PKCS#12 file."""
    if not pkcs12_path.exists():
        raise SigningError(
            f"no signing identity at {pkcs12_path}: run `manage.py create_signing_identity` "
            "or set STEWARD_SIGNING_PKCS12"
        )
    signer = signers.SimpleSigner.load_pkcs12(
        str(pkcs12_path), passphrase=passphrase.encode() if passphrase else None
    )
    if signer is None:
        raise SigningError(f"cannot read {pkcs12_path} (wrong STEWARD_SIGNING_PASSPHRASE?)")
    return signer


def timestamper_for(url: str) -> TimeStamper | None:
    return timestamps.HTTPTimeStamper(url) if url else None


def sign_pdf(
    pdf: bytes,
    *,
    signer: signers.Signer,
    timestamper: TimeStamper | None = None,
    reason: str = "Steward compliance report",
    location: str = "",
    name: str = "",
) -> bytes:
    """Append a PAdES signature covering the whole of `pdf` as an incremental update. `name`
    (the signature dictionary's /Name) names the person the signature is made for, when the
    organisation's key signs on a named reviewer's behalf (signed test logs)."""
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    meta = signers.PdfSignatureMetadata(
        field_name=FIELD_NAME,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        reason=reason,
        location=location or None,
        name=name or None,
    )
    out = outside_event_loop(signers.sign_pdf, writer, meta, signer=signer, timestamper=timestamper)
    return out.getvalue()
