"""Finance reports: read-only, for finance, managers and administrators; a brand user sees their own slice.

- `filters`: the brand / facility / channel / date-range filter every report takes, scoped to what the user sees;
- one module per report (`volume`, `sla`, `split_fees`, `variance`, `returns_report`, `billing`), each a `Report`
  with its columns, its rows (a lazy iterator straight off a server-side cursor) and its chart series;
- `exports`: CSV and XLSX streamed, cells escaped against formula injection, big ones as background jobs;
- `views`: the pages.
"""
