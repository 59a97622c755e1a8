"""The demo's signed reports (portal/demo/reports.py): a version report and the technical
documentation of a deployed version, each exported once however often the seed runs."""

from __future__ import annotations

from governance.reports.choices import ReportKind
from governance.reports.models import ReportExport
from portal.demo.reports import seed_reports
from tests import factories
from tests.governance.reports.conftest import signing_identity  # noqa: F401 (a fixture)


def test_the_demo_exports_the_technical_documentation_of_a_deployed_version_once(
    db,
    signing_identity,  # noqa: F811
):
    first = factories.approved_version()
    deployed = factories.approved_version(model=first.model)
    factories.production_deployment(version=deployed)
    actor = first.model.owner
    seed_reports(actor)
    seed_reports(actor)
    assert ReportExport.objects.filter(kind=ReportKind.VERSION).get().version == first
    techdoc = ReportExport.objects.filter(kind=ReportKind.TECHNICAL_DOCUMENTATION).get()
    assert techdoc.version == deployed
