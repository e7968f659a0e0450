"""Persistence behind a narrow interface speaking domain types only."""
