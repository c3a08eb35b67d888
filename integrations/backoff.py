"""The retry schedule every connector queue follows (outbound writes and inbound deliveries alike).

Attempt n (1..5) that fails transiently waits 60·2ⁿ⁻¹ s × U(0.8, 1.2): about 1, 3, 7 and 15 minutes after the first
attempt, 12–18 minutes in total; the fifth failure is a dead letter (../shared/reliability.md)."""

from __future__ import annotations

import datetime as dt
import random

MAX_ATTEMPTS = 5
BASE_DELAY_SECONDS = 60.0
JITTER = 0.2

_rng = random.Random()


def retry_delay(attempt: int, *, rng: random.Random | None = None) -> dt.timedelta:
    """The wait after failed attempt `attempt` (1-based): 60·2ⁿ⁻¹ s × U(0.8, 1.2)."""
    factor = (rng or _rng).uniform(1 - JITTER, 1 + JITTER)
    return dt.timedelta(seconds=BASE_DELAY_SECONDS * 2 ** (attempt - 1) * factor)
