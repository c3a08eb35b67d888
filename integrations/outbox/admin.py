"""The outbound queue in the console (pages defined in `integrations/outbox/console.py`), now that the roles and the
policy table list its models: administrators replay or discard dead letters, managers read."""

from integrations.outbox.console import register_console

register_console()
