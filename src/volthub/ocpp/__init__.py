"""OCPP-J gateway: WebSocket endpoint, frames, connections and one adapter per OCPP version."""
