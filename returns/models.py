"""Data, invariants and state machines of this app."""
