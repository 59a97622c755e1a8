"""Checklist template version 1: the ModelOps readiness questions, in our own words.

The content lives here, frozen with the migration, so that later edits to the code never
change what version 1 asked. A new wording is a new migration that loads version 2.

`required_from` is the lowest risk tier that must settle the item before approval (higher
tiers must too); None means no tier requires it. `evidence_required` means a "yes" must come
with evidence (a text, a URL or an artifact of the version).
"""

from django.db import migrations

from governance.readiness.loader import load_template, unload_template

L, M, H, C = "low", "medium", "high", "critical"


def item(key, question, guidance, *, hint="", evidence=False, required_from=None):
    return {
        "key": key,
        "question": question,
        "guidance": guidance,
        "evidence_hint": hint,
        "evidence_required": evidence,
        "required_from": required_from,
    }


BUSINESS = [
    item(
        "business.problem-statement",
        "Is the decision this model supports described in plain language, including who acts "
        "on its output and what changes because of it?",
        "Write it so that someone outside the team understands it. A precise statement "
        "also exposes a problem that only looks like a modelling problem.",
        hint="Link to the project brief or the model card's purpose section.",
        evidence=True,
        required_from=L,
    ),
    item(
        "business.acceptance-criteria",
        "Have the business owner and the team agreed on measurable conditions under which the "
        "model counts as good enough to ship?",
        "Name the indicator, the threshold and the data it is measured on, so that "
        "'done' can be tested rather than argued.",
        hint="The agreed criteria, with the date and the people who agreed.",
        evidence=True,
        required_from=L,
    ),
    item(
        "business.baseline",
        "Is there a reference point (the current process, a rule or a naive model) with "
        "measured results the new model will be compared with?",
        "Without a baseline a good-looking metric says nothing about added value.",
        hint="The baseline's results on the same evaluation data.",
        evidence=True,
        required_from=M,
    ),
    item(
        "business.harm-screen",
        "Before building, was the use case screened for ways it could hurt people, for "
        "example by repeating unfair decisions recorded in historical data?",
        "Some use cases should not be automated at all; this is cheapest to find out at the start.",
        required_from=M,
    ),
    item(
        "business.ml-justified",
        "Is it recorded why machine learning is worth its cost here, compared with simpler "
        "options and with what earlier work on similar problems found?",
        "Include the alternatives considered (rules, heuristics, buying a product) and "
        "any published or internal prior work.",
        required_from=H,
    ),
]

DATA = [
    item(
        "data.source-documented",
        "Are the origins of the training data, and the way they were extracted, written down?",
        "List each source system, the extraction query or job, and the time window covered.",
        hint="Data sheet, extraction code, or a dataset registered in Steward.",
        evidence=True,
        required_from=L,
    ),
    item(
        "data.available-in-production",
        "Will every input the model uses exist at prediction time in production, with the "
        "same definition and no later than the prediction is needed?",
        "Features computed from information that only arrives later make offline results "
        "impossible to reproduce live.",
        required_from=L,
    ),
    item(
        "data.usage-rights",
        "May this data be used for this purpose under its licences, contracts, terms of "
        "service and the consent given by the people it describes?",
        "Ask the data owner or legal team when in doubt; record their answer.",
        hint="Written confirmation from the data owner or legal review.",
        evidence=True,
        required_from=L,
    ),
    item(
        "data.sensitive-fields",
        "Have personal and sensitive attributes been identified, and removed, minimised or "
        "pseudonymised wherever the model does not strictly need them?",
        "Keep a list of such fields and the treatment chosen for each.",
        required_from=M,
    ),
    item(
        "data.labels-checked",
        "Is the way the target labels were produced documented, and was a sample of labels "
        "verified for correctness and timeliness?",
        "Describe who or what labelled the data and how disagreements were resolved. "
        "Outdated or noisy labels cap what any model can learn.",
        hint="Labelling guide and the result of the label audit.",
        evidence=True,
        required_from=M,
    ),
    item(
        "data.representative",
        "Does the training data reflect the population the model will score, with enough "
        "examples from small groups to judge how it behaves for them?",
        "Compare group sizes and key distributions between training data and the target "
        "population. More rows do not make up for a skewed sample.",
        hint="A comparison of training data with the population to be scored.",
        evidence=True,
        required_from=M,
    ),
    item(
        "data.assumptions-checked",
        "Did an exploratory analysis record the data's weaknesses and the assumptions made "
        "about it, and are those assumptions enforced by automatic checks?",
        "Ranges, allowed categories, uniqueness and missing-value rates are typical "
        "checks that can run on every new batch.",
        required_from=H,
    ),
]

MODEL = [
    item(
        "model.preprocessing-documented",
        "Are the cleaning, preprocessing and feature construction steps documented and "
        "implemented so that production applies exactly the same ones?",
        "Ideally the same code runs in training and serving, packaged with the model.",
        hint="Pipeline code or the notebook section, at a fixed commit.",
        evidence=True,
        required_from=L,
    ),
    item(
        "model.missing-inputs",
        "Is it defined what the model does at serving time with missing, malformed or "
        "out-of-range inputs?",
        "Decide between imputing, rejecting the request, or falling back, and test it.",
        required_from=M,
    ),
    item(
        "model.metrics-met",
        "Were evaluation metrics chosen to fit the problem, and does the model meet the "
        "acceptance thresholds on data it was not trained on?",
        "Report the metrics with their uncertainty and the baseline's values beside them.",
        hint="Evaluation report, or the version's training metrics in Steward.",
        evidence=True,
        required_from=L,
    ),
    item(
        "model.validation-sound",
        "Was the evaluation protected against overfitting and against leakage of target or "
        "test information into training?",
        "Check for features that encode the label, duplicates across splits, and splits "
        "that ignore time. Suspiciously good results deserve a second look.",
        required_from=M,
    ),
    item(
        "model.reproducible",
        "Can the training run be repeated from versioned code, data and parameters, giving "
        "the same model within a known tolerance?",
        "Pin random seeds, record the data snapshot and the code commit.",
        hint="Code commit, dataset hashes and the command that trains the model.",
        evidence=True,
        required_from=H,
    ),
    item(
        "model.dependencies-pinned",
        "Are all software dependencies captured with exact versions (lock file, container "
        "image or environment specification)?",
        "An unpinned library upgrade can silently change predictions.",
        hint="Requirements artifact or container image digest.",
        evidence=True,
        required_from=M,
    ),
    item(
        "model.explained",
        "Have the model's predictions been examined with explanation methods, and do the "
        "explanations make sense to people who know the domain?",
        "Feature attributions, partial dependence, subgroup analyses or residual plots; "
        "note anything the model relies on that it should not.",
        required_from=H,
    ),
    item(
        "model.error-analysis",
        "Were wrongly predicted cases inspected by hand to understand where and why the "
        "model fails?",
        "Knowing the failure modes tells users when not to trust the output.",
        required_from=H,
    ),
]

TESTS = [
    item(
        "tests.unit",
        "Is the model's code covered by unit tests that run automatically on every change?",
        "Cover feature construction and pre- and post-processing, not only the happy path.",
        hint="CI run or coverage report.",
        evidence=True,
        required_from=M,
    ),
    item(
        "tests.functional",
        "Do end-to-end tests on realistic data show that the packaged model, as it will be "
        "served, produces the expected outputs?",
        "Compare the served model's outputs with the training environment's on a fixed sample.",
        hint="Test report for the packaged model.",
        evidence=True,
        required_from=H,
    ),
    item(
        "tests.edge-cases",
        "Was the model's behaviour tested on extreme and hostile inputs, such as zeros, very "
        "large or small values, empty fields, noise and adversarial examples?",
        "The model should fail loudly or degrade gracefully, never return nonsense silently.",
        required_from=H,
    ),
]

DEPLOYMENT = [
    item(
        "deployment.serving-plan",
        "Is it settled how the model will run (online service, batch job or embedded "
        "library), on what resources, and who operates it?",
        "Include latency and throughput needs, memory, accelerators and the on-call team.",
        required_from=L,
    ),
    item(
        "deployment.integration-risks",
        "Are the systems that feed the model and consume its output listed, together with "
        "what happens when any of them fails or changes?",
        "Think of schema changes upstream and of consumers that cache or reuse scores.",
        required_from=H,
    ),
    item(
        "deployment.output-guards",
        "Are there safeguards against implausible predictions, such as clipping, confidence "
        "thresholds or handing the case to a rule or a person?",
        "Define the guard and how often it is expected to fire.",
        required_from=H,
    ),
    item(
        "deployment.rollout",
        "Is it decided how a new version reaches users (manual check, canary share, A/B "
        "test) and which results let it proceed?",
        "Steward records traffic shares per deployment; state the share and duration planned.",
        required_from=M,
    ),
    item(
        "deployment.rollback",
        "Can the previous version be restored quickly, and has that path been exercised?",
        "A rollback in Steward is a new deployment of the earlier version.",
        hint="Runbook or a record of a rehearsed rollback.",
        evidence=True,
        required_from=M,
    ),
    item(
        "deployment.retraining-policy",
        "Is there a retraining policy stating the latest date a refresh is due and the "
        "earliest a new model may replace the current one?",
        "Tie the policy to monitoring signals as well as to the calendar.",
        required_from=H,
    ),
]

MONITORING = [
    item(
        "monitoring.service-health",
        "Are operational measures (latency, error rate, memory, disk, throughput) collected "
        "and alerted on?",
        "Thresholds should reflect the service level agreed with consumers.",
        required_from=M,
    ),
    item(
        "monitoring.performance",
        "Will predictions be joined with ground truth when it arrives, so that decay in model "
        "metrics and business indicators is detected?",
        "State how long ground truth takes to arrive and how performance is watched meanwhile.",
        required_from=M,
    ),
    item(
        "monitoring.drift",
        "Are changes in the input data and in the distribution of predictions watched, with "
        "statistical tests or a classifier that separates old from new data?",
        "Summary statistics, Kolmogorov-Smirnov or chi-squared tests, PSI, or a domain "
        "classifier; weight features by their importance.",
        required_from=M,
    ),
    item(
        "monitoring.owner",
        "Is a named person or team responsible for watching these metrics and acting on "
        "alerts, with access to the dashboards?",
        "An alert nobody reads is not monitoring.",
        required_from=L,
    ),
    item(
        "monitoring.replacement-criteria",
        "Are the metrics and thresholds defined that decide whether a challenger model "
        "replaces the one in production?",
        "Agree them before comparing, so the decision cannot be tuned to the result.",
        required_from=C,
    ),
]

FEEDBACK = [
    item(
        "feedback.loop-analysed",
        "Has it been examined whether the model's own decisions will shape the data it will "
        "later be retrained or evaluated on?",
        "Recommendations, credit limits and fraud blocks all change what is observed next.",
        required_from=H,
    ),
    item(
        "feedback.loop-mitigated",
        "Where such a loop exists, is it countered, for example with a control group, some "
        "exploration, or logging of what the model caused to happen?",
        "Answer 'not applicable' with the reason if the analysis found no loop.",
        required_from=C,
    ),
]

FITNESS = [
    item(
        "fitness.field-trial",
        "Was the model tried under real conditions (shadow mode or a pilot), and did it "
        "perform as it did in development?",
        "Record the trial's duration, scope and the metrics observed.",
        hint="Report of the shadow run or pilot.",
        evidence=True,
        required_from=H,
    ),
    item(
        "fitness.independent-review",
        "Did domain experts outside the team review the data, the approach and the results?",
        "Record who reviewed, when, and what they asked to change.",
        required_from=C,
    ),
    item(
        "fitness.fairness",
        "Was the model checked for systematically worse or different outcomes across "
        "protected groups such as sex, ethnicity or age?",
        "Compare error rates and decision rates per group; explain any gap that remains.",
        hint="Fairness analysis with per-group metrics.",
        evidence=True,
        required_from=M,
    ),
    item(
        "fitness.lawful",
        "Is this use of the model lawful, including data protection (GDPR legal basis, "
        "rights of the people concerned, impact assessment where required)?",
        "Automated decisions with significant effects on people carry extra obligations.",
        hint="Legal or data protection officer's assessment.",
        evidence=True,
        required_from=M,
    ),
    item(
        "fitness.misuse",
        "Have plausible misuses and harmful side effects been considered, and are there "
        "safeguards against them?",
        "Consider use outside the intended population or purpose, and gaming by users.",
        required_from=H,
    ),
    item(
        "fitness.audit-trail",
        "Are the code, parameters and training data kept under version control so that any "
        "prediction can be reconstructed and audited later?",
        "Steward keeps artifacts and lineage per version; make sure the training data is "
        "among them and retained as long as the law requires.",
        hint="The version's artifacts and lineage in Steward.",
        evidence=True,
        required_from=L,
    ),
    item(
        "fitness.fallback",
        "Is there a fallback for when the model fails or has to be switched off, and do the "
        "people who would run it know it?",
        "A previous version, a rule set or a manual process, with the trigger for using it.",
        hint="Fallback procedure or runbook.",
        evidence=True,
        required_from=M,
    ),
    item(
        "fitness.worth-it",
        "Do the expected benefits still outweigh the cost of building, running and "
        "maintaining the model?",
        "Revisit the estimate made at the start with what is known now.",
    ),
]

TEMPLATE_V1 = {
    "version": 1,
    "title": "ModelOps readiness",
    "description": "Questions to settle before a model version goes to production.",
    "sections": [
        {
            "key": "business",
            "title": "Business need",
            "description": "What problem the model solves and how success is measured.",
            "items": BUSINESS,
        },
        {
            "key": "data",
            "title": "Data",
            "description": "Where the data comes from, whether it may be used, and its quality.",
            "items": DATA,
        },
        {
            "key": "model",
            "title": "The model",
            "description": "How it was built, evaluated and explained.",
            "items": MODEL,
        },
        {
            "key": "tests",
            "title": "Tests",
            "description": "Automated evidence that the code and the model behave.",
            "items": TESTS,
        },
        {
            "key": "deployment",
            "title": "Deployment",
            "description": "How the model runs, is rolled out, rolled back and refreshed.",
            "items": DEPLOYMENT,
        },
        {
            "key": "monitoring",
            "title": "Monitoring",
            "description": "How health, performance and drift are watched, and by whom.",
            "items": MONITORING,
        },
        {
            "key": "feedback",
            "title": "Feedback loops",
            "description": "Whether the model changes the data it learns from.",
            "items": FEEDBACK,
        },
        {
            "key": "fitness",
            "title": "Fit for use",
            "description": "Fairness, legality, misuse, auditability and the fallback plan.",
            "items": FITNESS,
        },
    ],
}


def forwards(apps, schema_editor):
    load_template(apps, TEMPLATE_V1)


def backwards(apps, schema_editor):
    unload_template(apps, TEMPLATE_V1["version"])


class Migration(migrations.Migration):
    dependencies = [("readiness", "0001_checklist")]

    operations = [migrations.RunPython(forwards, backwards)]
