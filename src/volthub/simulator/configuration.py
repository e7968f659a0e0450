"""A simulated station's configuration keys: values, access rights and validation (pure, no I/O).

The store is version-neutral; ``default_v16_configuration`` fills it with the OCPP 1.6 keys
(1.6 §9 and the security whitepaper §7) that the simulator honours.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum

#: Measurands the simulator can sample (names shared by OCPP 1.6 and 2.x).
SUPPORTED_MEASURANDS = (
    "Energy.Active.Import.Register",
    "Energy.Active.Import.Interval",
    "Power.Active.Import",
    "Power.Offered",
    "Current.Import",
    "Current.Offered",
    "Voltage",
    "Frequency",
    "Temperature",
    "SoC",
)

#: Keys and values are CiString50 / CiString500 in 1.6 (§7.29).
MAX_KEY_LENGTH = 50
MAX_VALUE_LENGTH = 500

Validator = Callable[[str, "ConfigStore"], "str | None"]


class ChangeStatus(StrEnum):
    ACCEPTED = "Accepted"
    REJECTED = "Rejected"
    REBOOT_REQUIRED = "RebootRequired"
    NOT_SUPPORTED = "NotSupported"


@dataclass
class ConfigKey:
    """One key. ``validate`` returns the value to store (normalised) or None to reject it."""

    name: str
    value: str
    readonly: bool = False
    #: Write-only keys (AuthorizationKey) are listed without their value (whitepaper §7.2).
    write_only: bool = False
    reboot_required: bool = False
    validate: Validator | None = None


@dataclass(frozen=True)
class KeyValue:
    key: str
    readonly: bool
    value: str | None


class ConfigStore:
    """Keys looked up case-insensitively, as CiString comparison requires (1.6 §2.1)."""

    def __init__(self, keys: Iterable[ConfigKey]) -> None:
        self._keys: dict[str, ConfigKey] = {k.name.lower(): k for k in keys}
        self._listeners: list[Callable[[str, str], None]] = []

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._keys

    def on_change(self, listener: Callable[[str, str], None]) -> None:
        """Call ``listener(canonical_name, new_value)`` after each accepted change."""
        self._listeners.append(listener)

    def get(self, name: str) -> str | None:
        key = self._keys.get(name.lower())
        return None if key is None else key.value

    def get_int(self, name: str, default: int) -> int:
        value = self.get(name)
        try:
            return int(value) if value is not None else default
        except ValueError:
            return default

    def get_bool(self, name: str, default: bool) -> bool:
        value = self.get(name)
        return default if value is None else value.lower() == "true"

    def get_list(self, name: str) -> list[str]:
        value = self.get(name) or ""
        return [item.strip() for item in value.split(",") if item.strip()]

    def set(self, name: str, value: str) -> None:
        """Set a value from inside the station (no access check), e.g. NumberOfConnectors."""
        self._keys[name.lower()].value = value

    def read(self, names: Iterable[str] | None = None) -> tuple[list[KeyValue], list[str]]:
        """GetConfiguration (1.6 §5.8): all keys when ``names`` is empty, else the known ones
        plus the unknown names."""
        wanted = list(names or [])
        if not wanted:
            return [self._key_value(k) for k in self._keys.values()], []
        known: list[KeyValue] = []
        unknown: list[str] = []
        for name in wanted:
            key = self._keys.get(name.lower())
            if key is None:
                # The schema caps unknownKey entries at 50 characters.
                unknown.append(name[:MAX_KEY_LENGTH])
            else:
                known.append(self._key_value(key))
        return known, unknown

    def change(self, name: str, value: str) -> ChangeStatus:
        """ChangeConfiguration with the status rules of 1.6 §5.3."""
        key = self._keys.get(name.lower())
        if key is None:
            return ChangeStatus.NOT_SUPPORTED
        if key.readonly or len(value) > MAX_VALUE_LENGTH:
            return ChangeStatus.REJECTED
        normalised = key.validate(value, self) if key.validate is not None else value
        if normalised is None:
            return ChangeStatus.REJECTED
        key.value = normalised
        for listener in self._listeners:
            listener(key.name, normalised)
        return ChangeStatus.REBOOT_REQUIRED if key.reboot_required else ChangeStatus.ACCEPTED

    @staticmethod
    def _key_value(key: ConfigKey) -> KeyValue:
        return KeyValue(key.name, key.readonly, None if key.write_only else key.value)


# --- validators -------------------------------------------------------------------------------


def integer(minimum: int = 0, maximum: int | None = None) -> Validator:
    def check(value: str, _store: ConfigStore) -> str | None:
        try:
            number = int(value.strip())
        except ValueError:
            return None
        if number < minimum or (maximum is not None and number > maximum):
            return None
        return str(number)

    return check


def boolean(value: str, _store: ConfigStore) -> str | None:
    lowered = value.strip().lower()
    return lowered if lowered in ("true", "false") else None


def measurand_list(max_length_key: str) -> Validator:
    """A CSL of measurands: 1.6 §3.16.4 rejects the whole list when one is unsupported."""
    supported = {m.lower(): m for m in SUPPORTED_MEASURANDS}

    def check(value: str, store: ConfigStore) -> str | None:
        items = [item.strip() for item in value.split(",") if item.strip()]
        if any(item.lower() not in supported for item in items):
            return None
        # §5.3: without a [Key]MaxLength "a safe value of 1 (one) item SHOULD be assumed".
        if len(items) > store.get_int(max_length_key, 1):
            return None
        return ",".join(supported[item.lower()] for item in items)

    return check


_PHASE_ROTATION = re.compile(r"^\d+\.(RST|RTS|SRT|STR|TRS|TSR|NotApplicable|Unknown)$")


def phase_rotation(value: str, store: ConfigStore) -> str | None:
    items = [item.strip() for item in value.split(",") if item.strip()]
    if not all(_PHASE_ROTATION.match(item) for item in items):
        return None
    if len(items) > store.get_int("ConnectorPhaseRotationMaxLength", 1):
        return None
    return ",".join(items)


def authorization_key(value: str, _store: ConfigStore) -> str | None:
    # Whitepaper §7.2: minimal length 16 bytes, at most 20 bytes as 40 hexadecimal digits.
    # Printable text of 16 to 40 characters is accepted, as CSMSs commonly send such passwords.
    if not 16 <= len(value) <= 40 or not value.isprintable():
        return None
    return value


def security_profile(value: str, store: ConfigStore) -> str | None:
    """Whitepaper A05: only upwards; profile 1 needs an AuthorizationKey (A05.FR.02); profiles
    2 and 3 need TLS, which this simulator does not offer, so they are refused (A05.FR.03)."""
    try:
        wanted = int(value.strip())
    except ValueError:
        return None
    current = store.get_int("SecurityProfile", 0)
    if wanted <= current or wanted > 1:
        return None
    if not store.get("AuthorizationKey"):
        return None
    return str(wanted)


def text(max_length: int) -> Validator:
    def check(value: str, _store: ConfigStore) -> str | None:
        return value if len(value) <= max_length else None

    return check


# --- the 1.6 key set --------------------------------------------------------------------------

FEATURE_PROFILES_16 = (
    "Core,FirmwareManagement,LocalAuthListManagement,Reservation,SmartCharging,RemoteTrigger"
)


def default_v16_configuration(
    *,
    connector_count: int,
    heartbeat_interval_s: int,
    meter_interval_s: int,
    authorization_key_value: str | None,
) -> ConfigStore:
    """The OCPP 1.6 configuration of a simulated station, with the spec's required keys."""
    nonneg = integer(0)
    return ConfigStore(
        [
            # Core (1.6 §9.1)
            ConfigKey("AllowOfflineTxForUnknownId", "false", validate=boolean),
            ConfigKey("AuthorizationCacheEnabled", "true", validate=boolean),
            ConfigKey("AuthorizeRemoteTxRequests", "true", validate=boolean),
            ConfigKey("BlinkRepeat", "3", validate=nonneg),
            ConfigKey("ClockAlignedDataInterval", "0", validate=nonneg),
            ConfigKey("ConnectionTimeOut", "60", validate=nonneg),
            ConfigKey(
                "ConnectorPhaseRotation",
                ",".join(f"{c}.RST" for c in range(connector_count + 1)),
                validate=phase_rotation,
            ),
            ConfigKey("ConnectorPhaseRotationMaxLength", str(connector_count + 1), readonly=True),
            ConfigKey("GetConfigurationMaxKeys", "100", readonly=True),
            ConfigKey("HeartbeatInterval", str(heartbeat_interval_s), validate=nonneg),
            ConfigKey("LightIntensity", "50", validate=integer(0, 100)),
            ConfigKey("LocalAuthorizeOffline", "true", validate=boolean),
            ConfigKey("LocalPreAuthorize", "false", validate=boolean),
            ConfigKey("MaxEnergyOnInvalidId", "0", validate=nonneg),
            ConfigKey(
                "MeterValuesAlignedData",
                "Energy.Active.Import.Register",
                validate=measurand_list("MeterValuesAlignedDataMaxLength"),
            ),
            ConfigKey("MeterValuesAlignedDataMaxLength", str(len(SUPPORTED_MEASURANDS)), readonly=True),
            ConfigKey(
                "MeterValuesSampledData",
                "Energy.Active.Import.Register,Power.Active.Import,Current.Import,Voltage,SoC",
                validate=measurand_list("MeterValuesSampledDataMaxLength"),
            ),
            ConfigKey("MeterValuesSampledDataMaxLength", str(len(SUPPORTED_MEASURANDS)), readonly=True),
            ConfigKey("MeterValueSampleInterval", str(meter_interval_s), validate=nonneg),
            ConfigKey("MinimumStatusDuration", "0", validate=nonneg),
            ConfigKey("NumberOfConnectors", str(connector_count), readonly=True),
            ConfigKey("ResetRetries", "1", validate=nonneg),
            ConfigKey("StopTransactionOnEVSideDisconnect", "true", validate=boolean),
            ConfigKey("StopTransactionOnInvalidId", "true", validate=boolean),
            ConfigKey("StopTxnAlignedData", "", validate=measurand_list("StopTxnAlignedDataMaxLength")),
            ConfigKey("StopTxnAlignedDataMaxLength", str(len(SUPPORTED_MEASURANDS)), readonly=True),
            ConfigKey(
                "StopTxnSampledData",
                "Energy.Active.Import.Register",
                validate=measurand_list("StopTxnSampledDataMaxLength"),
            ),
            ConfigKey("StopTxnSampledDataMaxLength", str(len(SUPPORTED_MEASURANDS)), readonly=True),
            ConfigKey("SupportedFeatureProfiles", FEATURE_PROFILES_16, readonly=True),
            ConfigKey("SupportedFeatureProfilesMaxLength", "6", readonly=True),
            ConfigKey("TransactionMessageAttempts", "3", validate=nonneg),
            ConfigKey("TransactionMessageRetryInterval", "10", validate=nonneg),
            ConfigKey("UnlockConnectorOnEVSideDisconnect", "true", validate=boolean),
            # Applied when the next WebSocket connection opens.
            ConfigKey("WebSocketPingInterval", "0", reboot_required=True, validate=nonneg),
            # Local Auth List Management (§9.2)
            ConfigKey("LocalAuthListEnabled", "true", validate=boolean),
            ConfigKey("LocalAuthListMaxLength", "1000", readonly=True),
            ConfigKey("SendLocalListMaxLength", "1000", readonly=True),
            # Reservation (§9.3)
            ConfigKey("ReserveConnectorZeroSupported", "false", readonly=True),
            # Smart Charging (§9.4)
            ConfigKey("ChargeProfileMaxStackLevel", "10", readonly=True),
            ConfigKey("ChargingScheduleAllowedChargingRateUnit", "Current,Power", readonly=True),
            ConfigKey("ChargingScheduleMaxPeriods", "24", readonly=True),
            ConfigKey("ConnectorSwitch3to1PhaseSupported", "false", readonly=True),
            ConfigKey("MaxChargingProfilesInstalled", "20", readonly=True),
            # Security whitepaper §7
            ConfigKey("AdditionalRootCertificateCheck", "false", readonly=True),
            ConfigKey(
                "AuthorizationKey",
                authorization_key_value or "",
                write_only=True,
                validate=authorization_key,
            ),
            ConfigKey("CertificateSignedMaxChainSize", "10000", readonly=True),
            ConfigKey("CertificateStoreMaxLength", "20", readonly=True),
            ConfigKey("CpoName", "VoltHub Simulator", validate=text(64)),
            ConfigKey(
                "SecurityProfile",
                "1" if authorization_key_value else "0",
                validate=security_profile,
            ),
        ]
    )
