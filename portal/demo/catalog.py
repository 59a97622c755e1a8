"""What the demo registers: four models, their versions, review stages and deployments.

Pure data and small naming helpers (no ORM). Stage and environment values are the registry's
choice values spelled as strings; `portal.demo.seeding` checks them against the choices.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from portal.demo.training import BINARY, MULTICLASS, REGRESSION

APPROVED, PENDING_REVIEW, DRAFT = "approved", "pending_review", "draft"
DEV, STAGING, PRODUCTION = "dev", "staging", "production"
DEPLOY, REPLACE, ROLLBACK = "deploy", "replace", "rollback"

SERVING_HOSTS = {
    DEV: "dev.serving.example.org",
    STAGING: "staging.serving.example.org",
    PRODUCTION: "serving.example.org",
}


@dataclass(frozen=True)
class VersionPlan:
    """One version: the algorithm, the share of training rows it sees, where review leaves it."""

    algorithm: str
    stage: str
    description: str
    training_share: float = 1.0


@dataclass(frozen=True)
class DeploymentStep:
    """`deploy` adds a deployment; `replace` supersedes the environment's latest one;
    `rollback` rolls the environment's latest deployment back to `version`."""

    action: str
    version: int
    environment: str
    description: str
    traffic_share: float = 100


@dataclass(frozen=True)
class DemoModel:
    """A registered model of the demo and everything seeded for it."""

    name: str
    problem: str
    task: str
    risk_tier: str
    team: str
    description: str
    intended_use: str
    tags: tuple[str, ...]
    data_name: str
    data_source: str
    versions: tuple[VersionPlan, ...]
    deployments: tuple[DeploymentStep, ...]
    decision_threshold: float | None = None


def repository(team: str, slug: str) -> str:
    return f"https://git.example.org/{team}/{slug}"


def code_commit(name: str, number: int) -> str:
    """A stable 40-hex commit id derived from the model name and version number."""
    return hashlib.sha1(f"{name}#v{number}".encode(), usedforsecurity=False).hexdigest()


def endpoint(slug: str, environment: str) -> str:
    return f"https://{SERVING_HOSTS[environment]}/{slug}/predict"


def image_uri(slug: str, number: int) -> str:
    """The serving image, pinned by digest (a tag could be moved after the review)."""
    digest = hashlib.sha256(f"image {slug}:v{number}".encode()).hexdigest()
    return f"oci://registry.example.org/{slug}@sha256:{digest}"


BREAST_CANCER = DemoModel(
    name="Breast cancer diagnosis",
    problem="breast_cancer",
    task=BINARY,
    risk_tier="high",
    team="oncology-ml",
    description=(
        "Estimates the probability that a breast mass is malignant from 30 features of the "
        "cell nuclei measured on a digitised fine-needle aspirate image."
    ),
    intended_use=(
        "Decision support for cytopathologists triaging fine-needle aspirates. A second "
        "reader, never a diagnosis: every case is still read by a pathologist."
    ),
    tags=("oncology", "diagnostics", "tabular", "binary"),
    data_name="wdbc",
    data_source="Wisconsin Diagnostic Breast Cancer data (569 aspirates), as scikit-learn ships it",
    versions=(
        VersionPlan(
            "logistic_regression", APPROVED, "Baseline: standardised features, logistic regression."
        ),
        VersionPlan(
            "random_forest",
            APPROVED,
            "Random forest on the same split; captures interactions between size and texture.",
        ),
        VersionPlan(
            "hist_gradient_boosting",
            PENDING_REVIEW,
            "Histogram gradient boosting; candidate to replace the baseline after review.",
        ),
    ),
    deployments=(
        DeploymentStep(DEPLOY, 1, PRODUCTION, "Primary production model", traffic_share=90),
        DeploymentStep(DEPLOY, 2, PRODUCTION, "Canary: 10% of traffic", traffic_share=10),
        DeploymentStep(DEPLOY, 3, STAGING, "Shadow evaluation while v3 awaits review"),
        DeploymentStep(DEPLOY, 3, DEV, "Development endpoint"),
    ),
    decision_threshold=0.35,
)

DIABETES = DemoModel(
    name="Diabetes progression",
    problem="diabetes",
    task=REGRESSION,
    risk_tier="medium",
    team="clinical-analytics",
    description=(
        "Predicts a quantitative measure of diabetes progression one year after baseline from "
        "age, sex, body-mass index, blood pressure and six blood serum measurements."
    ),
    intended_use=(
        "Population health planning: ranks patients for follow-up programmes. Not for "
        "individual treatment decisions."
    ),
    tags=("diabetes", "population-health", "tabular", "regression"),
    data_name="diabetes",
    data_source="Diabetes data of Efron et al. (442 patients, raw units), as scikit-learn ships it",
    versions=(
        VersionPlan("ridge", APPROVED, "Ridge regression on standardised baseline measurements."),
        VersionPlan(
            "random_forest_regressor", DRAFT, "Random forest regressor; still being evaluated."
        ),
    ),
    deployments=(
        DeploymentStep(DEPLOY, 1, STAGING, "Staging"),
        DeploymentStep(DEPLOY, 1, PRODUCTION, "Production"),
        DeploymentStep(DEPLOY, 2, DEV, "Development endpoint for the draft"),
    ),
)

WINE = DemoModel(
    name="Wine cultivar",
    problem="wine",
    task=MULTICLASS,
    risk_tier="low",
    team="food-science",
    description=(
        "Identifies which of three cultivars a wine comes from, using 13 results of its "
        "chemical analysis."
    ),
    intended_use="Quality control of incoming lots at the bottling plant.",
    tags=("food", "quality-control", "tabular", "multiclass"),
    data_name="wine",
    data_source="Wine recognition data (178 wines of three cultivars), as scikit-learn ships it",
    versions=(
        VersionPlan(
            "logistic_regression", APPROVED, "Multinomial logistic regression on standardised data."
        ),
        VersionPlan(
            "random_forest", APPROVED, "Random forest; briefly in production, then rolled back."
        ),
    ),
    deployments=(
        DeploymentStep(DEPLOY, 1, PRODUCTION, "Production"),
        DeploymentStep(REPLACE, 2, PRODUCTION, "Promote v2 (random forest) to production"),
        DeploymentStep(
            ROLLBACK,
            1,
            PRODUCTION,
            "v2 confused cultivars 1 and 2 on the new harvest's lots; back to v1 while we "
            "investigate",
        ),
        DeploymentStep(DEPLOY, 2, STAGING, "Investigating v2 on replayed production traffic"),
    ),
)

HEART_ATTACK = DemoModel(
    name="Heart attack risk",
    problem="heart_attack",
    task=BINARY,
    risk_tier="critical",
    team="cardiology-ml",
    description=(
        "Estimates the 10-year risk of a heart attack from age, sex, resting blood pressure, "
        "cholesterol, maximum heart rate, smoking, diabetes and chest pain type. Trained on a "
        "synthetic cohort generated for this demo (no real patients)."
    ),
    intended_use=(
        "Flags patients for a preventive cardiology consultation. Clinicians make every "
        "treatment decision; the score is never shown to patients on its own."
    ),
    tags=("cardiology", "risk-score", "synthetic-data", "binary"),
    data_name="heart-cohort",
    data_source="Synthetic cohort generated with a seeded logistic ground truth (no real patients)",
    versions=(
        VersionPlan(
            "logistic_regression",
            APPROVED,
            "Logistic regression on the first enrolment wave (60% of the training cohort).",
            training_share=0.6,
        ),
        VersionPlan(
            "gradient_boosting",
            PENDING_REVIEW,
            "Gradient boosting on the whole training cohort (both enrolment waves).",
        ),
    ),
    deployments=(
        DeploymentStep(DEPLOY, 1, PRODUCTION, "Production"),
        DeploymentStep(DEPLOY, 2, STAGING, "Staging, while v2 awaits review"),
        DeploymentStep(DEPLOY, 2, DEV, "Development endpoint"),
    ),
    decision_threshold=0.3,
)

DEMO_MODELS: tuple[DemoModel, ...] = (BREAST_CANCER, DIABETES, WINE, HEART_ATTACK)
