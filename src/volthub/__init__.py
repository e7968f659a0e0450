"""volthub: an open-source EV-charging backend (OCPP CSMS, OCPI roaming, tariffs)."""
