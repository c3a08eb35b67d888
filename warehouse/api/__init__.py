"""Machinery every app's API shares: token auth, the one place domain errors become HTTP, capped pagination,
serializers that refuse unknown fields, and the permission class that reads the roles."""
