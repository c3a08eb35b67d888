"""Alerts on the connector metrics (issue 18, item 2) and the incidents they open (seed 000 §07, §09).

- `rules`: the alert rules as data (`AlertRule`, tuned in the console), their seed defaults, and the evaluation the
  schedule runs every minute (`alerts_evaluate`);
- `signals`: each rule's number per connection, read through `integrations.metrics.series`;
- `incidents`: an incident is an `ExceptionItem` of kind INCIDENT with its `Incident` row and a timeline
  (`IncidentEntry`): opened once per cause while open, closed when a metric-backed signal recovers, acknowledged,
  snoozed, silenced by a maintenance window, and its post-incident review kept;
- `responses`: the first-hour response of each runbook, written on the incident's timeline;
- `runbooks`: the seven failure shapes of seed 000 §09 as pages;
- `notify`: one e-mail and one signed webhook per recipient, retried through django-q2."""
