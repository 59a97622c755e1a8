"""Control crosswalk: which ISO/IEC 42001 Annex A control and which NIST AI RMF 1.0
subcategory each readiness checklist item gives evidence for.

The table is ours (a short reading of both frameworks, not a copy of either) and is versioned
with the checklist template: `CROSSWALKS[template_version]` maps every item key of that
template version. A new template version adds its own table here, so the controls an old
answer was mapped to never move. `coverage()` reads a version's answers against the table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from governance.readiness.choices import AnswerChoice
from governance.readiness.models import ChecklistAnswer, ChecklistItem
from governance.readiness.selectors import answers_by_item, template_for, template_items
from registry.models import ModelVersion

ISO_42001 = "ISO/IEC 42001:2023 Annex A"
NIST_AI_RMF = "NIST AI RMF 1.0"

# The control titles, in our own short words.
ISO_TITLES: dict[str, str] = {
    "A.3.2": "AI roles and responsibilities",
    "A.4.3": "Data resources",
    "A.4.4": "Tooling resources",
    "A.5.2": "AI system impact assessment process",
    "A.5.4": "Impact on individuals or groups",
    "A.5.5": "Societal impacts",
    "A.6.1.2": "Objectives for responsible development",
    "A.6.2.2": "Requirements and specification",
    "A.6.2.3": "Documentation of design and development",
    "A.6.2.4": "Verification and validation",
    "A.6.2.5": "Deployment",
    "A.6.2.6": "Operation and monitoring",
    "A.6.2.8": "Recording of event logs",
    "A.7.2": "Data for development and enhancement",
    "A.7.3": "Acquisition of data",
    "A.7.4": "Quality of data",
    "A.7.5": "Data provenance",
    "A.7.6": "Data preparation",
    "A.9.2": "Processes for responsible use",
    "A.9.4": "Intended use",
}
NIST_TITLES: dict[str, str] = {
    "GOVERN 2.1": "Roles and responsibilities documented",
    "GOVERN 1.4": "Risk management process and outcomes documented",
    "MAP 1.1": "Intended purpose and context documented",
    "MAP 1.3": "Mission and goals for the AI system understood",
    "MAP 1.5": "Risk tolerance determined",
    "MAP 2.1": "Task and methods defined",
    "MAP 2.2": "Knowledge limits and use of output documented",
    "MAP 2.3": "Scientific integrity and TEVV considerations documented",
    "MAP 3.1": "Potential benefits examined",
    "MAP 3.2": "Potential costs examined",
    "MAP 4.1": "Legal risks of components and data mapped",
    "MAP 5.1": "Likelihood and magnitude of impacts documented",
    "MEASURE 1.1": "Measurement approaches and metrics selected",
    "MEASURE 2.1": "Test sets, metrics and tools documented",
    "MEASURE 2.3": "Performance demonstrated for deployment-like conditions",
    "MEASURE 2.4": "Behaviour monitored in production",
    "MEASURE 2.5": "Validity and reliability demonstrated",
    "MEASURE 2.6": "Safe failure evaluated",
    "MEASURE 2.9": "Model explained and output interpreted",
    "MEASURE 2.10": "Privacy risk examined",
    "MEASURE 2.11": "Fairness and bias evaluated",
    "MEASURE 3.1": "Emergent risks tracked",
    "MANAGE 1.1": "Decision whether to proceed",
    "MANAGE 2.3": "Response to previously unknown risks",
    "MANAGE 2.4": "Supersede, disengage or deactivate",
    "MANAGE 4.1": "Post-deployment monitoring plan",
    "GOVERN 1.5": "Ongoing monitoring and periodic review planned",
    "MEASURE 4.3": "Performance changes identified and documented",
}


@dataclass(frozen=True)
class Mapping:
    """One item's controls: an ISO/IEC 42001 Annex A control and a NIST AI RMF subcategory."""

    iso: str
    nist: str


_V1: dict[str, tuple[str, str]] = {
    "business.problem-statement": ("A.9.4", "MAP 1.1"),
    "business.acceptance-criteria": ("A.6.2.2", "MEASURE 1.1"),
    "business.baseline": ("A.6.2.4", "MAP 3.1"),
    "business.harm-screen": ("A.5.2", "MAP 5.1"),
    "business.ml-justified": ("A.6.1.2", "MAP 1.3"),
    "data.source-documented": ("A.7.5", "MAP 2.3"),
    "data.available-in-production": ("A.7.2", "MAP 2.2"),
    "data.usage-rights": ("A.7.3", "MAP 4.1"),
    "data.sensitive-fields": ("A.4.3", "MEASURE 2.10"),
    "data.labels-checked": ("A.7.4", "MAP 2.3"),
    "data.representative": ("A.7.4", "MEASURE 2.11"),
    "data.assumptions-checked": ("A.7.6", "MAP 2.2"),
    "model.preprocessing-documented": ("A.7.6", "MAP 2.1"),
    "model.missing-inputs": ("A.6.2.3", "MEASURE 2.6"),
    "model.metrics-met": ("A.6.2.4", "MEASURE 2.3"),
    "model.validation-sound": ("A.6.2.4", "MEASURE 2.5"),
    "model.reproducible": ("A.6.2.3", "MEASURE 2.1"),
    "model.dependencies-pinned": ("A.4.4", "MEASURE 2.1"),
    "model.explained": ("A.6.2.3", "MEASURE 2.9"),
    "model.error-analysis": ("A.6.2.4", "MEASURE 2.5"),
    "tests.unit": ("A.6.2.4", "MEASURE 2.1"),
    "tests.functional": ("A.6.2.4", "MEASURE 2.3"),
    "tests.edge-cases": ("A.6.2.4", "MEASURE 2.6"),
    "deployment.serving-plan": ("A.6.2.5", "MAP 2.1"),
    "deployment.integration-risks": ("A.6.2.5", "MAP 3.2"),
    "deployment.output-guards": ("A.6.2.5", "MEASURE 2.6"),
    "deployment.rollout": ("A.6.2.5", "MANAGE 1.1"),
    "deployment.rollback": ("A.6.2.5", "MANAGE 2.4"),
    "deployment.retraining-policy": ("A.6.2.6", "MANAGE 4.1"),
    "monitoring.service-health": ("A.6.2.6", "MEASURE 2.4"),
    "monitoring.performance": ("A.6.2.6", "MEASURE 2.4"),
    "monitoring.drift": ("A.6.2.6", "MEASURE 3.1"),
    "monitoring.owner": ("A.3.2", "GOVERN 2.1"),
    "monitoring.replacement-criteria": ("A.6.2.6", "MANAGE 2.4"),
    "feedback.loop-analysed": ("A.5.5", "MEASURE 3.1"),
    "feedback.loop-mitigated": ("A.5.5", "MANAGE 2.3"),
    "fitness.field-trial": ("A.6.2.4", "MEASURE 2.3"),
    "fitness.independent-review": ("A.6.2.4", "GOVERN 1.4"),
    "fitness.fairness": ("A.5.4", "MEASURE 2.11"),
    "fitness.lawful": ("A.9.2", "MAP 4.1"),
    "fitness.misuse": ("A.9.4", "MAP 2.2"),
    "fitness.audit-trail": ("A.6.2.8", "GOVERN 1.4"),
    "fitness.fallback": ("A.9.2", "MANAGE 2.4"),
    "fitness.worth-it": ("A.6.1.2", "MANAGE 1.1"),
}

# Template version 2 adds the revalidation section (governance/readiness migration 0003).
_V2 = _V1 | {
    "revalidation.performance-reviewed": ("A.6.2.6", "MEASURE 4.3"),
    "revalidation.use-unchanged": ("A.9.4", "MAP 1.1"),
    "revalidation.card-current": ("A.6.2.3", "MAP 2.2"),
    "revalidation.risk-tier-confirmed": ("A.5.2", "GOVERN 1.5"),
}

# template version -> item key -> mapping
CROSSWALKS: dict[int, dict[str, Mapping]] = {
    version: {key: Mapping(iso=iso, nist=nist) for key, (iso, nist) in table.items()}
    for version, table in ((1, _V1), (2, _V2))
}

EVIDENCED = "evidenced"
NOT_APPLICABLE = "not_applicable"
OPEN = "open"


@dataclass
class ItemCoverage:
    item: ChecklistItem
    mapping: Mapping | None
    answer: ChecklistAnswer | None
    state: str


@dataclass
class ControlCoverage:
    """One control of one framework and the items that evidence it."""

    framework: str
    control: str
    title: str
    items: list[ItemCoverage] = field(default_factory=list)

    @property
    def state(self) -> str:
        states = {i.state for i in self.items}
        if EVIDENCED in states:
            return EVIDENCED
        if states == {NOT_APPLICABLE}:
            return NOT_APPLICABLE
        return OPEN


@dataclass
class Coverage:
    """A version's checklist read as evidence for both frameworks."""

    version: ModelVersion
    template_version: int | None
    items: list[ItemCoverage]
    controls: list[ControlCoverage]
    unmapped: list[str]

    def summary(self, framework: str) -> dict[str, int]:
        rows = [c for c in self.controls if c.framework == framework]
        return {
            "controls": len(rows),
            EVIDENCED: sum(c.state == EVIDENCED for c in rows),
            NOT_APPLICABLE: sum(c.state == NOT_APPLICABLE for c in rows),
            OPEN: sum(c.state == OPEN for c in rows),
        }

    def as_dict(self) -> dict[str, Any]:
        """The JSON form (the technical documentation's crosswalk section)."""
        return {
            "checklist_template": self.template_version,
            "frameworks": {
                framework: self.summary(framework) for framework in (ISO_42001, NIST_AI_RMF)
            },
            "controls": [
                {
                    "framework": c.framework,
                    "control": c.control,
                    "title": c.title,
                    "state": c.state,
                    "items": [i.item.key for i in c.items],
                }
                for c in self.controls
            ],
            "unmapped_items": self.unmapped,
        }


def item_state(answer: ChecklistAnswer | None) -> str:
    """An answer evidences its controls when it settles its item with a yes; a reasoned "not
    applicable" excuses them; anything else leaves them open."""
    if answer is None or not answer.settles_item:
        return OPEN
    return NOT_APPLICABLE if answer.answer == AnswerChoice.NOT_APPLICABLE else EVIDENCED


def _control_key(control: str) -> tuple[Any, ...]:
    head, _, number = control.partition(" ")
    text = number or head.lstrip("A.")
    return (head if number else "", *(int(p) for p in text.split(".") if p.isdigit()))


def coverage(version: ModelVersion) -> Coverage:
    """Per item and per control, what the version's checklist evidences. Callers pass a
    version they reached through `restrict(user, "view")`."""
    template = template_for(version=version)
    items = template_items(template) if template else []
    answers = answers_by_item(version=version, items=items)
    table = CROSSWALKS.get(template.version, {}) if template else {}
    rows = [
        ItemCoverage(
            item=item,
            mapping=table.get(item.key),
            answer=answers.get(item.pk),
            state=item_state(answers.get(item.pk)),
        )
        for item in items
    ]
    controls: dict[tuple[str, str], ControlCoverage] = {}
    for row in rows:
        if row.mapping is None:
            continue
        for framework, control, titles in (
            (ISO_42001, row.mapping.iso, ISO_TITLES),
            (NIST_AI_RMF, row.mapping.nist, NIST_TITLES),
        ):
            entry = controls.setdefault(
                (framework, control),
                ControlCoverage(framework=framework, control=control, title=titles[control]),
            )
            entry.items.append(row)
    ordered = sorted(controls.values(), key=lambda c: (c.framework, _control_key(c.control)))
    return Coverage(
        version=version,
        template_version=template.version if template else None,
        items=rows,
        controls=ordered,
        unmapped=[r.item.key for r in rows if r.mapping is None],
    )
