"""OCPI 2.2.1 modules, one file per module and role."""
