"""The outbound queue in the console (pages defined in `integrations/outbox/console.py`), now that the roles and the
policy table list its models: administrators replay or discard dead letters, managers read.

This module is where it is registered (admin autodiscovery); `OutboxConfig.ready` must not register it again."""

from django.contrib import admin

from integrations.outbox.console import register_console
from integrations.outbox.models import OutboundMessage

if not admin.site.is_registered(OutboundMessage):
    register_console()
