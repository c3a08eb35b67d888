"""The top floor (design.md §2): pages that read across the apps below and change nothing in them.

- `health_board`: connector health for staff (issue "Observability");
- `slo`: the brands' SLO attainment pages (issue "Brand SLO pages");
- `finance`: read-only finance reports and their exports (issue "Finance reports").

Each lives in its own module or package with its own URL list, gathered in `reports/urls.py`.
"""
