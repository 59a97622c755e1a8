"""Checklist template version 2: version 1's questions plus a "revalidation" section, the
checklist of a periodic revalidation request (docs/governance.md, "Periodic revalidation").

Its items are required by no tier for a version's first approval; a revalidation request
needs them answered (settled) after the request opened. Versions answering version 1 keep it.
"""

import copy
import importlib

from django.db import migrations

from governance.readiness.loader import load_template, unload_template

V1 = importlib.import_module("governance.readiness.migrations.0002_template_v1").TEMPLATE_V1


def item(key, question, guidance, *, hint="", evidence=True):
    return {
        "key": key,
        "question": question,
        "guidance": guidance,
        "evidence_hint": hint,
        "evidence_required": evidence,
        "required_from": None,
    }


REVALIDATION = [
    item(
        "revalidation.performance-reviewed",
        "Has performance since the last validation been reviewed against its targets?",
        "Compare the monitored accuracy, drift and data quality since the last validation with "
        "the targets set at approval.",
        hint="Link to the performance review or the monitoring report.",
    ),
    item(
        "revalidation.use-unchanged",
        "Is the model still used as intended, within its documented restrictions?",
        "Check the inventory's intended use and restrictions against how the outputs are used.",
        hint="Note of the review with the business owner.",
    ),
    item(
        "revalidation.card-current",
        "Is the model card still accurate (limitations, affected groups, data)?",
        "Update the card during the revalidation if anything changed.",
        evidence=False,
    ),
    item(
        "revalidation.risk-tier-confirmed",
        "Are the risk tier and regulatory classification still right?",
        "A change of use or of the rules may move the model to another tier or class.",
        evidence=False,
    ),
]

TEMPLATE_V2 = copy.deepcopy(V1) | {"version": 2}
TEMPLATE_V2["sections"] = [
    *copy.deepcopy(V1["sections"]),
    {
        "key": "revalidation",
        "title": "Periodic revalidation",
        "description": "Answered again at each periodic revalidation of an approved version.",
        "items": REVALIDATION,
    },
]


def forwards(apps, schema_editor):
    load_template(apps, TEMPLATE_V2)


def backwards(apps, schema_editor):
    unload_template(apps, TEMPLATE_V2["version"])


class Migration(migrations.Migration):
    dependencies = [("readiness", "0002_template_v1")]

    operations = [migrations.RunPython(forwards, backwards)]
