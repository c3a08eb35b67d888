"""One package per platform: events.py (signature, topics, normalising) and client.py (the API)."""
