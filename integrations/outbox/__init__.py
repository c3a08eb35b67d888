"""The outbound queue: writes to platforms (fulfilments, tracking, inventory) with an idempotency key fixed at
creation, retries on a bounded schedule, and per-platform dead letters."""
