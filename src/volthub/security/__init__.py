"""OCPP security: TLS for wss://, client certificates, and the built-in certificate authority."""
