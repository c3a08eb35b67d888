"""The carrier kit: one folder per carrier behind a typed protocol (`protocol.py`) and a registry (`registry.py`),
plus carrier accounts (`models.py`, app label `carriers`), their clients with the audit hook (`accounts.py`) and label
files (`labels.py`). The pure modules (protocol, errors, clients, simulators) import no Django."""
