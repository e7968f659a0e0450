"""Simulated charging stations: an outside OCPP client for e2e tests, demos and load."""
