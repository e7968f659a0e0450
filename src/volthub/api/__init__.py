"""Admin REST API (/api/v1)."""
