"""The demo's model-risk governance: inventory fields for every demo model, a complete model
card for "Heart attack risk" v1 (its version's scored validation set gives the metrics their
confidence intervals and fairness by sex), and an overdue periodic revalidation on "Breast cancer
diagnosis" (its last validation backdated past the high tier's interval, then the sweep run)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.contrib.auth.models import User
from django.utils import timezone

from governance.approvals.choices import RequestKind
from governance.approvals.models import ApprovalRequest
from governance.approvals.revalidation import interval_days, revalidation_sweep
from governance.modelcards.services import card_save
from registry import services
from registry.choices import RegulatoryClass
from registry.models import ModelVersion, RegisteredModel

CARD_MODEL = "Heart attack risk"
CARD_VERSION = 1
CARD_SENSITIVE = "sex"
OVERDUE_MODEL = "Breast cancer diagnosis"
DEMO_ACTOR = "demo-seed"

CARD_TEXT: dict[str, str] = {
    "intended_use": (
        "Flags adult patients (30 to 85) seen in primary care for a preventive cardiology "
        "consultation when their 10-year heart-attack risk is above 30 %. Decision support: "
        "the clinician decides."
    ),
    "intended_users": (
        "General practitioners and practice nurses, through the practice's record system; the "
        "preventive cardiology team reviews the referrals."
    ),
    "out_of_scope": (
        "Emergency triage of chest pain; patients under 30 or over 85; showing the score to "
        "patients on its own; insurance or employment decisions."
    ),
    "limitations": (
        "Trained on a synthetic cohort: calibration on a real population is unproven. Fewer "
        "women than men in the cohort, so the women's rates carry wider intervals. Misses "
        "risk carried by factors it does not see (family history, LDL fractions)."
    ),
    "ethical_considerations": (
        "Uses sex as an input; health data of special category (GDPR art. 9). A false "
        "negative delays prevention, a false positive costs a consultation. Selection rates "
        "by sex are monitored (fairness by group below and on the deployment's page)."
    ),
    "affected_groups": (
        "Primary-care patients aged 30 to 85; women and men are compared for selection rate and "
        "accuracy."
    ),
    "caveats": (
        "Recalibrate on local outcomes before any real use. Review the referral threshold "
        "with the cardiology team every year, and whenever the drift status is at risk."
    ),
}

INVENTORY: dict[str, dict[str, Any]] = {
    "Breast cancer diagnosis": {
        "developer": "Oncology ML team",
        "validator": "Model validation unit (independent)",
        "restrictions": "Second reader only: never a diagnosis on its own.",
        "expected_end_of_life": dt.date(2028, 12, 31),
        "risk_rationale": "Supports a diagnostic decision for patients.",
        "regulatory_class": RegulatoryClass.HIGH,
        "regulatory_category": "Art. 6(1): safety component of a medical device (MDR class IIa)",
    },
    "Diabetes progression": {
        "developer": "Endocrinology analytics",
        "validator": "Model validation unit",
        "restrictions": "Cohort planning only; not for individual treatment.",
        "expected_end_of_life": dt.date(2027, 6, 30),
        "risk_rationale": "Aggregated planning use; errors are caught by clinicians.",
        "regulatory_class": RegulatoryClass.MINIMAL,
    },
    "Wine cultivar": {
        "developer": "Data science guild",
        "validator": "Peer review",
        "risk_rationale": "Teaching example; no decision about people.",
        "regulatory_class": RegulatoryClass.MINIMAL,
    },
    "Heart attack risk": {
        "developer": "Cardiology ML team",
        "validator": "Model validation unit (independent)",
        "restrictions": "Not for emergency triage, insurance or employment decisions.",
        "expected_end_of_life": dt.date(2029, 3, 31),
        "risk_rationale": "Drives referrals for patients; uses special-category health data.",
        "regulatory_class": RegulatoryClass.HIGH,
        "regulatory_category": "Annex III 5(a): access to essential public health services",
    },
}


def seed_inventory(model: RegisteredModel, actor: User) -> None:
    fields = INVENTORY.get(model.name)
    if fields:
        services.model_set_inventory(model=model, actor=actor, **fields)


def seed_card(model: RegisteredModel, version: ModelVersion, actor: User) -> None:
    """Before the version is reviewed: save the complete card. Its metrics come from the
    version's scored validation set (seeding.scored_set: the outcome beside v1's predictions)."""
    if model.name != CARD_MODEL or version.number != CARD_VERSION:
        return
    card_save(
        version=version,
        actor=actor,
        text=CARD_TEXT,
        note="Complete card written for the review",
        sensitive_attribute=CARD_SENSITIVE,
    )


def seed_overdue(progress: Callable[[str], None]) -> None:
    """Backdate the last validation of OVERDUE_MODEL past its tier's interval, then run the
    revalidation sweep: it opens the revalidation request and marks the model overdue."""
    model = RegisteredModel.objects.filter(name=OVERDUE_MODEL).first()
    if model is None:
        return
    if ApprovalRequest.objects.filter(version__model=model, kind=RequestKind.REVALIDATION).exists():
        return
    days = interval_days(model.risk_tier) or 365
    today = timezone.localdate()
    validated = today - dt.timedelta(days=days + 21)
    services.model_set_validation(
        model=model,
        actor=DEMO_ACTOR,
        validated_on=validated,
        next_validation_due=validated + dt.timedelta(days=days),
    )
    result = revalidation_sweep(today=today)
    progress(f"{OVERDUE_MODEL}: revalidation overdue ({result['opened']} request opened)")
