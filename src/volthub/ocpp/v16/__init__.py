"""OCPP 1.6J adapter: translations between 1.6 payloads and the domain."""
