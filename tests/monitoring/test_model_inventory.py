"""The model-risk inventory: fields edited through the audited service, filtered on the page,
exported as CSV and JSON with only what the user may view, overdue shown on the portfolio."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from governance.audit.models import AuditEvent
from governance.modelcards.selectors import inventory_fields_for
from registry import services
from registry.choices import RegulatoryClass, ValidationStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def models(model_a, model_b):
    services.model_set_inventory(
        model=model_a,
        actor=model_a.owner,
        developer="Credit analytics",
        regulatory_class=RegulatoryClass.HIGH,
        regulatory_category="Annex III 5(b) creditworthiness",
        risk_rationale="Decides on credit for natural persons",
    )
    services.model_set_validation(
        model=model_b,
        actor="test",
        validation_status=ValidationStatus.REVALIDATION_OVERDUE,
        next_validation_due=dt.date(2024, 1, 1),
    )
    model_a.refresh_from_db()
    model_b.refresh_from_db()
    return model_a, model_b


def test_an_inventory_change_is_audited_with_before_and_after(models):
    model_a, _ = models
    event = AuditEvent.objects.filter(action="registry.model.inventory_changed").get()
    assert event.before["developer"] == "" and event.after["developer"] == "Credit analytics"
    fields = inventory_fields_for(model_a)
    assert fields["developer"]["source"]["audit_seq"] == event.seq
    assert fields["regulatory_class"]["display"].startswith("High-risk")
    assert fields["validator"]["source"]["kind"] == "gap"


def test_validation_fields_take_the_approve_right(model_a, reviewer):
    with pytest.raises(PermissionDenied):
        services.model_set_inventory(
            model=model_a, actor=model_a.owner, validation_status=ValidationStatus.VALIDATED
        )
    with pytest.raises(ValidationError) as error:
        services.model_set_inventory(model=model_a, actor=model_a.owner, colour="red")
    assert "colour" in error.value.message_dict


def test_the_page_filters_by_regulatory_class_and_validation_status(client, admin, models):
    client.force_login(admin)
    url = reverse("monitoring:model-inventory")
    page = client.get(url, {"regulatory_class": "high"})
    assert [m.name for m in page.context["page_obj"]] == ["Credit risk"]
    page = client.get(url, {"validation_status": "revalidation_overdue"})
    assert [m.name for m in page.context["page_obj"]] == ["Churn"]
    assert b"Revalidation overdue" in page.content


def test_exports_hold_only_visible_models(client, owner, models):
    client.force_login(owner)
    body = client.get(reverse("monitoring:model-inventory-export", args=["json"])).json()
    assert [row["name"] for row in body["models"]] == ["Credit risk"]
    assert body["models"][0]["regulatory_category"] == "Annex III 5(b) creditworthiness"
    text = client.get(reverse("monitoring:model-inventory-export", args=["csv"])).content
    rows = list(csv.DictReader(io.StringIO(text.decode())))
    assert [row["Model"] for row in rows] == ["Credit risk"]
    assert rows[0]["Owner"] == "olivia"


def test_csv_cells_never_start_a_formula(client, owner, model_a):
    services.model_set_inventory(model=model_a, actor=owner, developer="=HYPERLINK(1)")
    client.force_login(owner)
    text = client.get(reverse("monitoring:model-inventory-export", args=["csv"])).content.decode()
    assert "'=HYPERLINK(1)" in text


def test_the_portfolio_counts_overdue_models_the_user_may_view(client, admin, owner, models):
    client.force_login(admin)
    assert client.get(reverse("monitoring:portfolio")).context["revalidation_overdue"] == 1
    client.force_login(owner)
    assert client.get(reverse("monitoring:portfolio")).context["revalidation_overdue"] == 0


def test_the_edit_page_saves_through_the_service(client, owner, model_a):
    client.force_login(owner)
    url = reverse("registry:model-inventory-edit", args=[model_a.slug])
    response = client.post(
        url,
        {
            "validator": "Model validation unit",
            "regulatory_class": "limited",
            "validation_status": "validated",  # disabled for the owner: ignored
            "expected_end_of_life": "2030-06-30",
        },
    )
    assert response.status_code == 302
    model_a.refresh_from_db()
    assert model_a.validator == "Model validation unit"
    assert model_a.expected_end_of_life == dt.date(2030, 6, 30)
    assert model_a.validation_status == ValidationStatus.NOT_VALIDATED


def test_a_model_the_user_may_not_view_is_404(client, outsider, model_a):
    client.force_login(outsider)
    url = reverse("registry:model-inventory-edit", args=[model_a.slug])
    assert client.get(url).status_code == 404
