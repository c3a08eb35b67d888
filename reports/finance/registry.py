"""The finance reports, by slug, in the order the index lists them."""

from __future__ import annotations

from reports.finance.base import Report
from reports.finance.billing import BillingReport
from reports.finance.returns_report import ReturnsReport
from reports.finance.sla import SlaOrdersReport, SlaReport
from reports.finance.split_fees import SplitFeesReport
from reports.finance.variance import VarianceReport
from reports.finance.volume import VolumeReport

REPORTS: dict[str, Report] = {
    r.slug: r
    for r in (
        VolumeReport(),
        SlaReport(),
        SlaOrdersReport(),
        SplitFeesReport(),
        VarianceReport(),
        ReturnsReport(),
        BillingReport(),
    )
}
