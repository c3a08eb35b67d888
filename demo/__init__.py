"""Demo data: `manage.py seed_demo`. Above every app; nothing imports it but the demo and its tests."""
