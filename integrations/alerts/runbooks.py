"""The seven failure shapes of seed 000 §09, each a runbook entry: the detection signal, the triage checklist, the
remediation and the post-incident review's questions, in words an on-call engineer can act on at 3 am. The pages
(`/runbooks/<slug>/`) render these; every alert names one (`AlertRule.runbook`), and an incident's review is a
filled-in copy of its runbook's questions (`Incident.postmortem`)."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse


@dataclass(frozen=True)
class Runbook:
    slug: str
    title: str
    detection: str
    first_hour: str
    triage: tuple[str, ...]
    remediation: tuple[str, ...]

    @property
    def url(self) -> str:
        return reverse("runbook", args=[self.slug])


# The post-incident review every runbook asks for: (field, question). Kept on the incident, filled in by a manager.
POSTMORTEM_FIELDS: tuple[tuple[str, str], ...] = (
    ("impact", "What did the brand and its customers see, and for how long?"),
    ("timeline", "When did it start, when did we know, when was it fixed?"),
    ("root_cause", "What caused it?"),
    ("detection", "Did the alert fire in time? What would have told us sooner?"),
    ("actions", "What do we change so it does not happen again (owner, date)?"),
)

PLATFORM_OUTAGE = "platform-outage"
CREDENTIAL_EXPIRED = "credential-expired"
RATE_LIMIT = "rate-limit-hit"
INVENTORY_DESYNC = "inventory-desync"
SIGNATURE_SPIKE = "webhook-signature-spike"
ADMIN_EDIT = "brand-admin-edit"
CATALOG_EXPLOSION = "catalog-explosion"

RUNBOOKS: dict[str, Runbook] = {
    r.slug: r
    for r in (
        Runbook(
            PLATFORM_OUTAGE, "Platform outage",
            "The webhook ingest rate drops by more than half against the trailing hour; writes fail or time out; the "
            "reconciler's pulls fail. The platform's status page confirms.",
            "The connection switches to polling (the reconciler pulls at the fallback cadence), the brand console "
            "shows a banner, and the open circuit keeps our writes from storming the platform.",
            (
                "Open the platform's status page: is an incident declared for this region or API?",
                "On the health board: do other connections of the same platform show the same drop?",
                "Check the connection's last error in words and the dead-letter depth.",
                "Confirm the connection is in polling fallback and the reconciler's last pull succeeded.",
            ),
            (
                "Do not retry by hand: the outbox's backoff and circuit do it without a storm.",
                "When the platform recovers, the reconciler returns the connection to active once a pull finds "
                "nothing missing; webhooks flow again and the incident closes itself.",
                "Replay dead letters from the dead-letter list once writes succeed again.",
            ),
        ),
        Runbook(
            CREDENTIAL_EXPIRED, "Credential expired",
            "An outbound write or a pull gets 401: the connection pauses (status: paused, credentials refused).",
            "Writes are paused and queued, inbound events keep being stored, and the brand's administrator is told "
            "to rotate the credential.",
            (
                "Was the credential rotated or the app uninstalled on the brand's side (ask the brand admin)?",
                "Check the connection's credential fingerprint against the one the brand says it issued.",
                "Confirm queued writes are waiting (not dead-lettered).",
            ),
            (
                "Set the new credentials on the connection's console page: the connection resumes and the queued "
                "writes are sent in order.",
                "The incident closes itself when the connection is active again.",
            ),
        ),
        Runbook(
            RATE_LIMIT, "Rate-limit hit",
            "429 or 5xx answers with Retry-After; the rate-limit headroom stays below 20 % for 10 minutes.",
            "Our writes slow down (the outbox waits what the platform asks), and the brand's live traffic "
            "(fulfilments, tracking) goes before our backfill (stock levels).",
            (
                "Is another app of the brand spending the same budget (ask the brand, check the platform's app list)?",
                "Is a backfill or a catalog publish running (outbox depth by kind)?",
                "Is the headroom recovering between drains?",
            ),
            (
                "Let the outbox's priorities work: fulfilments first, stock levels after.",
                "Pause a large backfill until the headroom is back above 20 %.",
                "The incident closes itself when the headroom recovers.",
            ),
        ),
        Runbook(
            INVENTORY_DESYNC, "Inventory desync",
            "The reconciler delta jumps: more than 50 records an hour found missing from or older in the WMS.",
            "Writes for the affected SKUs are quarantined and a targeted reconcile runs.",
            (
                "Which SKUs diverge (the inventory divergence list of the connection)?",
                "Did webhooks stop (ingest rate) or did the platform's data change out of band?",
                "Are the quarantined SKUs' levels right in the WMS (ledger check)?",
            ),
            (
                "Run a targeted reconcile for the affected SKUs; release the quarantine once they match.",
                "If webhooks stopped, follow the platform-outage runbook.",
            ),
        ),
        Runbook(
            SIGNATURE_SPIKE, "Webhook signature failure spike",
            "The HMAC verification failure rate is above 0.1 % of signed webhook requests.",
            "The signing secret is flagged as suspect on the incident, and the on-call is guided through "
            "re-registering the webhook endpoint with a fresh secret.",
            (
                "Did the brand rotate the app's secret or reinstall the app (a new signing secret)?",
                "Do the failures come from the platform's addresses, or from elsewhere (someone probing)?",
                "Is a previous secret still inside its rotation window?",
            ),
            (
                "Get the current signing secret from the platform and set it on the connection (the previous one "
                "stays valid for 24 hours).",
                "Re-register the webhook subscription at the connection's webhook URL.",
                "Refused bodies are dropped, not retried: run a full reconcile to pull what was missed.",
            ),
        ),
        Runbook(
            ADMIN_EDIT, "Brand-side admin edit gone wrong",
            "The reconciler finds out-of-band changes: orders changed on the platform without a webhook reaching us.",
            "The change is written to the connection's audit log, the brand's administrator is told, and a replay "
            "is offered on the incident page.",
            (
                "Which records changed (the reconciler run's stale and missing counts, the audit log)?",
                "Who made the edit on the platform (ask the brand admin)?",
                "Did the edit reach the WMS correctly through the reconciler's replay?",
            ),
            (
                "If the replay did not apply the change, press Replay from the platform on the incident page.",
                "Agree with the brand which side is right and correct the other.",
            ),
        ),
        Runbook(
            CATALOG_EXPLOSION, "Catalog explosion",
            "A backfill volume spike: the connection's pending outbound writes pass the threshold (cost-point burn).",
            "Stock writes switch to the platform's bulk operations and non-critical writes are throttled, so the "
            "brand's fulfilments keep flowing.",
            (
                "What grew: a new catalog import, a variant explosion, a publish loop?",
                "How fast is the queue draining, and is the headroom holding?",
                "Are fulfilments still confirmed within their SLO?",
            ),
            (
                "Let the throttled stock writes drain in bulk; fulfilments go first.",
                "If a publish loop is the cause, stop it at its source and discard the duplicates.",
                "The incident closes itself when the backlog is back under the threshold.",
            ),
        ),
    )
}  # fmt: skip

RUNBOOK_CHOICES = [(slug, runbook.title) for slug, runbook in RUNBOOKS.items()]


def runbook(slug: str) -> Runbook:
    return RUNBOOKS[slug]
