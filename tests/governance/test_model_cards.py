"""Model cards: pre-filled from what Steward knows, versioned, audited, bound by the release
manifest and frozen with the approval; intervals checked against scipy."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from scipy import stats

from governance.approvals import services as approvals
from governance.approvals.digests import version_manifest
from governance.audit.models import AuditEvent
from governance.modelcards import quantitative
from governance.modelcards.selectors import model_card_for
from governance.modelcards.services import CardFrozen, card_save
from registry import services as registry
from tests import factories


def _row(i: int) -> str:
    region = "north" if i % 3 else "south"
    prediction = (i % 2) if i % 5 else 1 - i % 2
    return f"{20 + i},{1000 * i},{region},{i % 2},{prediction}\n"


VALIDATION_CSV = "age,income,region,label,prediction\n" + "".join(_row(i) for i in range(60))


# Pure: the intervals -------------------------------------------------------------------------


@pytest.mark.parametrize("k,n", [(0, 10), (7, 10), (93, 100), (500, 500), (1, 3)])
def test_wilson_interval_matches_scipy(k, n):
    expected = stats.binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    low, high = quantitative.wilson(k, n)
    assert low == pytest.approx(expected.low, abs=1e-12)
    assert high == pytest.approx(expected.high, abs=1e-12)


def test_mean_interval_matches_scipy_t_interval():
    values = np.random.default_rng(3).exponential(2.0, size=50)
    expected = stats.t.interval(0.95, len(values) - 1, loc=values.mean(), scale=stats.sem(values))
    assert quantitative.mean_interval(values) == pytest.approx(expected)


def test_analyse_binary_gives_accuracy_interval_and_groups():
    frame = pd.read_csv(pd.io.common.StringIO(VALIDATION_CSV))
    result = quantitative.analyse(
        frame, task="binary", target="label", sensitive_attribute="region", positive=1
    )
    accuracy = result["metrics"][0]
    correct = int((frame["label"] == frame["prediction"]).sum())
    assert accuracy["value"] == correct / 60
    ci = stats.binomtest(correct, 60).proportion_ci(method="wilson")
    assert (accuracy["ci_low"], accuracy["ci_high"]) == pytest.approx((ci.low, ci.high))
    groups = {g["group"]: g for g in result["fairness"]["groups"]}
    south = frame[frame["region"] == "south"]
    assert groups["south"]["n"] == len(south)
    assert groups["south"]["selection_rate"]["value"] == pytest.approx(
        (south["prediction"] == 1).mean()
    )


def test_analyse_names_a_missing_column():
    with pytest.raises(ValueError, match="'prediction'"):
        quantitative.analyse(pd.DataFrame({"label": [1]}), task="binary", target="label")


# Services ------------------------------------------------------------------------------------


@pytest.fixture
def carded(owner):
    model = factories.registered_model(
        owner=owner, name="Card model", target_column="label", intended_use="Score loans"
    )
    version = factories.model_version(model=model)
    registry.dataset_upload(
        model=model,
        actor=owner,
        upload=factories.csv_upload(VALIDATION_CSV, name="valid.csv"),
        name="valid",
        kind="validation",
        for_version=version,
        link_as="validated_with",
    )
    return version


def test_draft_is_prefilled_with_sources(carded):
    card = model_card_for(carded)
    by_key = {s["key"]: s for s in card["sections"]}
    assert card["revision"] is None
    assert by_key["intended_use"]["content"] == "Score loans"
    assert by_key["intended_use"]["source"]["field"] == "intended_use"
    assert by_key["limitations"]["source"] == {"kind": "gap"}
    evaluation = by_key["evaluation_data"]["content"]
    assert evaluation[0]["sha256"] and evaluation[0]["name"] == "valid"
    analysis = by_key["quantitative_analysis"]["content"]
    assert analysis["status"] == "computed" and analysis["n"] == 60


def test_each_save_is_a_new_audited_revision_bound_by_the_manifest(carded, owner):
    first = card_save(version=carded, actor=owner, text={"limitations": "Thin files."})
    second = card_save(version=carded, actor=owner, text={"caveats": "Recalibrate yearly."})
    assert (first.number, second.number) == (1, 2)
    assert second.content["text"]["limitations"] == "Thin files."
    events = AuditEvent.objects.filter(action="governance.model_card.saved").order_by("seq")
    assert [e.after["changed_sections"] for e in events][1] == ["caveats"]
    assert version_manifest(carded)["model_card"] == {"revision": 2, "sha256": second.digest}
    # Saving the same text again makes no revision.
    assert card_save(version=carded, actor=owner, text={"caveats": "Recalibrate yearly."}) == second


def test_save_needs_the_change_right_and_names_bad_sections(carded, outsider, owner):
    with pytest.raises(PermissionDenied):
        card_save(version=carded, actor=outsider, text={"limitations": "x"})
    with pytest.raises(ValidationError) as error:
        card_save(version=carded, actor=owner, text={"colour": "blue", "limitations": 3})
    assert set(error.value.message_dict) == {"text.colour", "text.limitations"}


def test_edit_after_approval_is_refused_until_a_revalidation_is_opened(owner):
    version = factories.approved_version(model=factories.registered_model(owner=owner))
    with pytest.raises(CardFrozen):
        card_save(version=version, actor=owner, text={"limitations": "late"})
    request = approvals.request_revalidation(version=version, actor=owner)
    revision = card_save(version=version, actor=owner, text={"limitations": "late"})
    request.refresh_from_db()
    assert request.manifest["model_card"]["sha256"] == revision.digest
    assert request.manifest_digest != ""


def test_a_card_change_rebinds_a_pending_request(carded, owner):
    registry.artifact_upload(
        version=carded, actor=owner, upload=factories.binary_upload(), kind="model"
    )
    factories.answer_required_items(carded)
    request = approvals.request_version_approval(version=carded, actor=owner)
    before = request.manifest_digest
    card_save(version=carded, actor=owner, text={"limitations": "Thin files."})
    request.refresh_from_db()
    assert request.manifest_digest != before
    assert AuditEvent.objects.filter(action="governance.approval.version.manifest_changed").exists()


def test_fairness_by_group_where_a_sensitive_attribute_is_set(carded, owner):
    revision = card_save(version=carded, actor=owner, text={}, sensitive_attribute="region")
    fairness = revision.content["data"]["quantitative_analysis"]["fairness"]
    assert fairness["sensitive_attribute"] == "region"
    assert {g["group"] for g in fairness["groups"]} == {"north", "south"}
    with pytest.raises(ValidationError) as error:
        card_save(version=carded, actor=owner, text={}, sensitive_attribute="shoe_size")
    assert "sensitive_attribute" in error.value.message_dict


def test_the_api_reads_and_saves_the_card_and_refuses_a_frozen_one(api_as, owner, outsider):
    version = factories.approved_version(model=factories.registered_model(owner=owner))
    url = f"/api/v1/versions/{version.pk}/model-card/"
    assert api_as(outsider).get(url).status_code == 404
    body = api_as(owner).get(url).json()
    assert body["revision"] is None and body["frozen"] is True
    response = api_as(owner).put(url, {"text": {"limitations": "x"}}, format="json")
    assert response.status_code == 409
    draft = factories.model_version(model=version.model)
    url = f"/api/v1/versions/{draft.pk}/model-card/"
    response = api_as(owner).put(url, {"text": {"limitations": "x"}}, format="json")
    assert response.status_code == 200 and response.json()["revision"] == 1
    assert response.json()["revisions"][0]["edited_by"] == "olivia"
