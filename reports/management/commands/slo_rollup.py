"""Write the SLO pages' rollups now: the daily rows of the last `--days` (30 back-fills a month, after deploying; the
schedule rewrites today and yesterday every 5 minutes) and the minute rows of the longest burn-rate window."""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from reports.slo.budget import WINDOWS
from reports.slo.rollup import DEFAULT_DAYS, slo_minutes_rollup, slo_rollup


class Command(BaseCommand):
    help = "Rewrite the SLO daily rollup (SloDay) of the last N UTC days, today included."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, default=DEFAULT_DAYS, help="how many days, today included")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["days"] < 1:
            self.stderr.write("--days must be at least 1; nothing written.")
            raise SystemExit(2)
        rows = slo_rollup(days=options["days"])
        minutes = slo_minutes_rollup(minutes=int(max(WINDOWS).total_seconds() // 60))
        self.stdout.write(
            f"{rows} SLO day rows written for the last {options['days']} day(s), {minutes} minute rows for the "
            "burn-rate windows."
        )
