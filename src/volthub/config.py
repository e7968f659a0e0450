"""Settings: command-line flags over VOLTHUB_* environment variables over defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from typing import Any

from volthub.domain.enums import Admission


@dataclass(slots=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8000
    # Optional second listener for OCPP only, to keep the admin API off the stations' network.
    ocpp_port: int | None = None
    database_url: str = "sqlite:///volthub.db"
    admin_token: str | None = None
    station_admission: Admission = Admission.OPEN
    heartbeat_interval_s: int = 300
    boot_retry_interval_s: int = 60
    call_timeout_s: float = 30.0
    ws_ping_interval_s: float = 60.0
    ws_ping_timeout_s: float = 30.0
    reservation_check_interval_s: float = 30.0
    # ISO 15118 certificate management (OCPP 2.x block M): see README.md.
    iso15118_cert_provider_url: str | None = None
    iso15118_cert_provider_timeout_s: float = 10.0
    ocsp_timeout_s: float = 10.0
    # PEM bundle of V2G/MO CA certificates trusted to vouch for OCSP responders and CRLs.
    iso15118_trust_bundle: str | None = None
    log_level: str = "INFO"
    log_json: bool = True
    # TLS (wss://): an RSA and/or an ECDSA server certificate with its key (PEM files); client
    # certificates are checked against the built-in CA plus `tls_client_ca_file` when given.
    tls_cert_file: str | None = None
    tls_key_file: str | None = None
    tls_ecdsa_cert_file: str | None = None
    tls_ecdsa_key_file: str | None = None
    tls_client_ca_file: str | None = None
    # Files the server keeps (the built-in CA under {data_dir}/ca); relative to the working folder.
    data_dir: str = "volthub-data"
    # Validity of station certificates the built-in CA signs.
    certificate_validity_days: int = 365
    # Billing (issue 4): currency of tariffs, our OCPI identity (owner of tariffs and CDRs),
    # how often CostUpdated / RunningCost goes to a station, and the CDR safety sweep.
    currency: str = "EUR"
    ocpi_country_code: str = "NL"
    ocpi_party_id: str = "VHB"
    cost_update_interval_s: float = 60.0
    cdr_sweep_interval_s: float = 60.0
    # OCPI (issue 5): the base URL partners reach us at (default: the URL a request came to),
    # our name and roles in credentials, partner call timeout and outbox retry policy.
    public_url: str | None = None
    ocpi_name: str = "volthub"
    ocpi_roles: str = "CPO,EMSP"
    ocpi_timeout_s: float = 15.0
    ocpi_retry_base_s: float = 2.0
    ocpi_retry_max_s: float = 300.0
    ocpi_offline_after_failures: int = 3
    # eMSP role: Token.whitelist of our id tokens for CPOs (mod_tokens §WhitelistType: ALWAYS,
    # ALLOWED, ALLOWED_OFFLINE or NEVER).
    ocpi_token_whitelist: str = "ALLOWED"
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, **overrides: Any) -> Settings:
        """VOLTHUB_<FIELD> from `env` (default os.environ), then non-None `overrides`."""
        env = dict(os.environ) if env is None else env
        settings = cls()
        for f in fields(cls):
            if f.name == "extra":
                continue
            raw = env.get(f"VOLTHUB_{f.name.upper()}")
            if raw is not None and raw != "":
                setattr(settings, f.name, _coerce(f.name, raw, getattr(settings, f.name)))
        for name, value in overrides.items():
            if value is not None:
                setattr(settings, name, _coerce(name, value, getattr(settings, name)))
        return settings


def _coerce(name: str, value: Any, current: Any) -> Any:
    if name == "station_admission":
        try:
            return Admission(str(value).lower())
        except ValueError as exc:
            raise ValueError(f"VOLTHUB_STATION_ADMISSION must be open, pending or closed, "
                             f"not {value!r}") from exc
    if not isinstance(value, str):
        return value
    if name == "ocpi_token_whitelist":
        if value.upper() not in ("ALWAYS", "ALLOWED", "ALLOWED_OFFLINE", "NEVER"):
            raise ValueError("VOLTHUB_OCPI_TOKEN_WHITELIST must be ALWAYS, ALLOWED, "
                             f"ALLOWED_OFFLINE or NEVER, not {value!r}")
        return value.upper()
    if name == "ocpp_port":
        return int(value)
    if isinstance(current, bool):
        return value.lower() in ("1", "true", "yes", "on")
    if isinstance(current, int):
        return int(value)
    if isinstance(current, float):
        return float(value)
    return value
