"""What a model card holds, in the order it reads, and its canonical digest. No Django.

The sections follow Mitchell et al., "Model Cards for Model Reporting" (2019), as the issue
lists them. Text sections are written by the model's owners (pre-filled from the registry
where it knows something); data sections (training and evaluation data, quantitative
analysis) are computed by Steward and stored with each revision, so a revision is the whole
card as it was read and approved.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

# (key, title, help) of the sections owners write.
TEXT_SECTIONS: tuple[tuple[str, str, str], ...] = (
    ("intended_use", "Intended use", "What the model is for, and the decisions it supports."),
    ("intended_users", "Intended users", "Who uses its outputs, and how."),
    ("out_of_scope", "Out-of-scope uses", "Uses it must not be put to."),
    ("limitations", "Limitations and known failure modes", "Where it is known to fail."),
    (
        "ethical_considerations",
        "Ethical considerations",
        "Risks to people, sensitive data used, mitigations.",
    ),
    ("affected_groups", "Affected groups", "Who is affected by its decisions."),
    ("caveats", "Caveats and recommendations", "What a user of its outputs should know."),
)
TEXT_KEYS = tuple(key for key, _, _ in TEXT_SECTIONS)
# (key, title) of the sections Steward computes.
DATA_SECTIONS: tuple[tuple[str, str], ...] = (
    ("training_data", "Training data"),
    ("evaluation_data", "Evaluation data"),
    ("quantitative_analysis", "Quantitative analysis"),
)
DATA_KEYS = tuple(key for key, _ in DATA_SECTIONS)
MAX_TEXT = 20_000


def clean_text(sections: Mapping[str, Any]) -> tuple[dict[str, str], dict[str, str]]:
    """The text sections stripped, and per section what is wrong with it (unknown keys,
    values that are not text, text too long)."""
    errors: dict[str, str] = {}
    cleaned: dict[str, str] = {}
    for key, value in sections.items():
        if key not in TEXT_KEYS:
            errors[key] = f"is not a section one writes; one of {', '.join(TEXT_KEYS)}"
        elif not isinstance(value, str):
            errors[key] = "must be text"
        elif len(value) > MAX_TEXT:
            errors[key] = f"is longer than {MAX_TEXT} characters"
        else:
            cleaned[key] = value.strip()
    return cleaned, errors


def canonical(content: Mapping[str, Any]) -> bytes:
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def digest(content: Mapping[str, Any]) -> str:
    """SHA-256 of the card's canonical JSON: what the release manifest binds."""
    return hashlib.sha256(canonical(content)).hexdigest()


def completeness(text: Mapping[str, str]) -> tuple[int, int]:
    """How many text sections are filled, out of how many."""
    return sum(1 for key in TEXT_KEYS if text.get(key, "").strip()), len(TEXT_KEYS)
