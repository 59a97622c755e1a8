"""HTML to PDF with WeasyPrint: print CSS, embedded fonts, PDF/A-3b, the evidence manifest
attached. Pure: HTML text and manifest in, PDF bytes out."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from weasyprint import HTML, Attachment
from weasyprint.text.fonts import FontConfiguration

MANIFEST_NAME = "evidence-manifest.json"
PDF_VARIANT = "pdf/a-3b"


def manifest_bytes(manifest: dict[str, Any]) -> bytes:
    """The manifest exactly as attached: canonical JSON, so its digest can be recomputed."""
    return json.dumps(manifest, sort_keys=True, indent=1, ensure_ascii=False, default=str).encode()


def html_to_pdf(
    html: str,
    *,
    manifest: dict[str, Any],
    when: dt.datetime,
    base_url: str,
    extra: dict[str, tuple[bytes, str]] | None = None,
) -> bytes:
    """Render `html` (fonts referenced by @font-face are embedded as subsets) as PDF/A-3b with
    the manifest attached as an associated file, and each of `extra` ({name: (bytes,
    description)}) beside it."""
    fonts = FontConfiguration()
    attachment = Attachment(
        string=manifest_bytes(manifest),
        name=MANIFEST_NAME,
        description="Every digest stated in this report (sha256, JSON)",
        created=when,
        modified=when,
        relationship="Data",
    )
    others = [
        Attachment(
            string=data,
            name=name,
            description=description,
            created=when,
            modified=when,
            relationship="Data",
        )
        for name, (data, description) in (extra or {}).items()
    ]
    document = HTML(string=html, base_url=base_url)
    return document.write_pdf(
        font_config=fonts,
        pdf_variant=PDF_VARIANT,
        attachments=[attachment, *others],
    )
