"""One platform's folder: events.py (signature, delivery meta, mappings), client.py (its API, pure HTTP),
connector.py (the kit's `Connector`), simulator.py (a fake of it on loopback) and fixtures/ (its official payloads)."""
