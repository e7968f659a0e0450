"""An OCPP 2.0.1 / 2.1 simulated charging station: ``SimulatedStation201`` and its translations.

The station is an outside client of the CSMS, like the 1.6 one: it speaks OCPP through the
``ocpp`` library's ``ocpp.v201.ChargePoint`` (or ``ocpp.v21.ChargePoint`` for 2.1) over a
``websockets`` connection, with schema validation both ways, and keeps its behaviour in the
version-neutral modules (``behaviour``, ``ev``, ``smart_charging``, ``certificates``) plus the
2.x ``device_model``. Messages of 2.0.1 and 2.1 are mostly the same, so one class serves both,
parametrised by the version; 2.1's new CSMS-initiated actions are answered only on 2.1.

Payloads stay in OCPP's own camelCase both ways: the library's snake_case translation is
bypassed (``_Wire._handle_call`` and ``_Wire.call_raw``), as it mangles some 2.x names
(``soc``, ``responderURL``) and its 2.1 routing leaves unhandled CALLs unanswered (see
docs/adr/0002-ocpp-library.md).

EVSEs: ``connectors=N`` gives N EVSEs of one connector (connectorId 1) each. A transaction
starts when an EV is plugged in and its idToken authorized (TxStartPoint PowerPathClosed) and
ends when authorization ends (TxStopPoint PowerPathClosed); its TransactionEvents carry a UUID
transactionId and a seqNo counted per transaction from 0.

Offline behaviour (E04): TransactionEvent, MeterValues and SecurityEventNotification messages go
through one ordered queue. Made while offline, a TransactionEvent has ``offline: true``; the
queue is replayed in order once the station is back online. ``go_offline`` / ``go_online``
force an outage (tests, ``volthub simulate --offline-every``).

Test hooks as in 1.6: a firmware, log or publish ``location`` containing ``download-fail``,
``install-fail`` or ``upload-fail`` makes that step fail.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import random
import time
import uuid
from collections import deque
from collections.abc import Callable, Coroutine, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from ocpp.exceptions import (
    FormatViolationError,
    InternalError,
    NotSupportedError,
    OccurrenceConstraintViolationError,
    OCPPError,
    SecurityError,
)
from ocpp.exceptions import (
    NotImplementedError as OcppNotImplementedError,
)
from ocpp.messages import Call, MessageType, validate_payload
from ocpp.v21 import ChargePoint as ChargePoint21
from ocpp.v21.enums import Action as Action21
from ocpp.v201 import ChargePoint as ChargePoint201
from ocpp.v201.enums import Action as Action201
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus, WebSocketException
from websockets.typing import Subprotocol

from volthub.simulator.behaviour import (
    AuthEntry,
    AuthStatus,
    Connector,
    ConnectorStatus,
    LocalAuthList,
    MeterSample,
    Readings,
    Reservation,
    Session,
    SessionPlanner,
    StopReason,
)
from volthub.simulator.certificates import (
    CertificateError,
    CertificateHash,
    CertificateInfo,
    CertificateStore,
    SigningRequest,
    certificate_hash,
    make_signing_request,
    parse_certificate,
    pem_to_der,
)
from volthub.simulator.device_model import (
    AttributeType,
    ComponentKey,
    DeviceModel,
    Monitor,
    ReportBase,
    StationFacts,
    Variable,
    default_device_model,
    preconfigured_monitors,
)
from volthub.simulator.ev import ElectricVehicle, random_ev
from volthub.simulator.smart_charging import (
    ChargingProfile,
    Limit,
    ProfileKind,
    ProfilePurpose,
    ProfileRejected,
    ProfileStore,
    RateUnit,
    Recurrency,
    SchedulePeriod,
    StationCapabilities,
    TransactionContext,
)
from volthub.simulator.stats import SimStats
from volthub.simulator.v16 import (
    DATA_TRANSFER_VENDOR_ID,
    SessionError,
    StationConnectionError,
    StationTimings,
    _firmware_name,
    _valid_signature,
    iso,
    parse_time,
    utc_now,
)

LOGGER = logging.getLogger("volthub.simulator")

VERSIONS = ("2.0.1", "2.1")
SUBPROTOCOLS = {"2.0.1": "ocpp2.0.1", "2.1": "ocpp2.1"}
#: The one connector of each simulated EVSE.
CONNECTOR_ID = 1
#: Entries per NotifyReport, NotifyMonitoringReport, NotifyDisplayMessages and
#: ReportChargingProfiles message; longer reports are split with tbc and seqNo.
REPORT_ITEMS_PER_MESSAGE = 40
#: NotifyCustomerInformation.data is a string of at most 512 characters.
CUSTOMER_DATA_SIZE = 512

_F = TypeVar("_F", bound=Callable[..., Any])
Payload = dict[str, Any]

#: action -> (handler method name, the first version that has the action)
_HANDLERS: dict[str, tuple[str, str]] = {}


def _answers(action: str, *, since: str = "2.0.1") -> Callable[[_F], _F]:
    """Mark a method as the handler of a CSMS-initiated ``action``."""

    def mark(func: _F) -> _F:
        _HANDLERS[action] = (func.__name__, since)
        return func

    return mark


# --- translations (pure) ----------------------------------------------------------------------

_STATUS_2X = {
    ConnectorStatus.AVAILABLE: "Available",
    ConnectorStatus.PREPARING: "Occupied",
    ConnectorStatus.CHARGING: "Occupied",
    ConnectorStatus.SUSPENDED_EV: "Occupied",
    ConnectorStatus.SUSPENDED_EVSE: "Occupied",
    ConnectorStatus.FINISHING: "Occupied",
    ConnectorStatus.RESERVED: "Reserved",
    ConnectorStatus.UNAVAILABLE: "Unavailable",
    ConnectorStatus.FAULTED: "Faulted",
}


def connector_status_2x(status: ConnectorStatus) -> str:
    """ConnectorStatusEnumType: every state with an EV plugged in is Occupied."""
    return _STATUS_2X[status]


def charging_state(session: Session | None) -> str:
    """ChargingStateEnumType of a session: who holds the energy back, if anyone."""
    if session is None:
        return "Idle"
    if session.offered_power_w <= 0:
        return "SuspendedEVSE"
    if session.power_w <= 0:
        return "SuspendedEV"
    return "Charging"


#: Why a transaction ended → (triggerReason, stoppedReason) of its Ended event.
STOP_REASONS_2X: dict[StopReason, tuple[str, str]] = {
    StopReason.LOCAL: ("StopAuthorized", "Local"),
    StopReason.REMOTE: ("RemoteStop", "Remote"),
    StopReason.EV_DISCONNECTED: ("EVCommunicationLost", "EVDisconnected"),
    StopReason.HARD_RESET: ("ResetCommand", "ImmediateReset"),
    StopReason.SOFT_RESET: ("ResetCommand", "ImmediateReset"),
    StopReason.UNLOCK_COMMAND: ("UnlockCommand", "Other"),
    StopReason.DE_AUTHORIZED: ("Deauthorized", "DeAuthorized"),
    StopReason.REBOOT: ("ResetCommand", "Reboot"),
    StopReason.OTHER: ("AbnormalCondition", "Other"),
}


def sampled_values_2x(readings: Readings, measurands: Iterable[str], context: str) -> list[Payload]:
    """2.x SampledValueType entries: numbers with a unitOfMeasure, one per phase for currents
    and voltages; the energy register is the total over all phases
    (SampledDataCtrlr.RegisterValuesWithoutPhases)."""
    values: list[Payload] = []

    def add(value: float, measurand: str, unit: str | None, location: str, **extra: str) -> None:
        entry: Payload = {"value": value, "context": context, "measurand": measurand, "location": location}
        if unit is not None:
            entry["unitOfMeasure"] = {"unit": unit}
        entry.update(extra)
        values.append(entry)

    phase_names = ("L1", "L2", "L3")[: readings.phases]
    for measurand in measurands:
        if measurand == "Energy.Active.Import.Register":
            add(round(readings.energy_register_wh), measurand, "Wh", "Outlet")
        elif measurand == "Energy.Active.Import.Interval":
            add(round(readings.energy_interval_wh), measurand, "Wh", "Outlet")
        elif measurand == "Power.Active.Import":
            add(round(readings.power_w), measurand, "W", "Outlet")
        elif measurand == "Power.Offered":
            add(round(readings.offered_power_w), measurand, "W", "Outlet")
        elif measurand == "Current.Import":
            for phase in phase_names:
                add(round(readings.current_a, 1), measurand, "A", "Outlet", phase=phase)
        elif measurand == "Current.Offered":
            add(round(readings.offered_current_a, 1), measurand, "A", "Outlet")
        elif measurand == "Voltage":
            for phase, voltage in zip(phase_names, readings.voltage_v, strict=False):
                add(voltage, measurand, "V", "Outlet", phase=f"{phase}-N")
        elif measurand == "Frequency":
            add(readings.frequency_hz, measurand, None, "Outlet")
        elif measurand == "SoC" and readings.soc_percent is not None:
            add(readings.soc_percent, measurand, "Percent", "EV")
    return values


def meter_value_2x(sample: MeterSample) -> Payload:
    """A 2.x MeterValueType."""
    return {
        "timestamp": iso(sample.timestamp),
        "sampledValue": sampled_values_2x(sample.readings, sample.measurands, sample.context),
    }


_PURPOSES_2X = {
    "ChargingStationMaxProfile": ProfilePurpose.STATION_MAX,
    "TxDefaultProfile": ProfilePurpose.TX_DEFAULT,
    "TxProfile": ProfilePurpose.TX,
}


def profile_from_v201(data: Mapping[str, Any], evse_id: int, installed_at: datetime) -> ChargingProfile:
    """A 2.x ChargingProfileType (camelCase) in the neutral form, EVSE id as connector id.

    Only the first charging schedule counts (an AC station without ISO 15118 has one). Raises
    KeyError/ValueError for what does not translate: ChargingStationExternalConstraints (set by
    the station itself), 2.1's LocalGeneration and PriorityCharging, a period without a limit.
    """
    schedule = data["chargingSchedule"][0]
    periods = tuple(
        SchedulePeriod(
            start_period_s=int(p["startPeriod"]),
            limit=float(p["limit"]),
            number_phases=int(p["numberPhases"]) if p.get("numberPhases") else None,
        )
        for p in schedule["chargingSchedulePeriod"]
    )
    recurrency = data.get("recurrencyKind")
    transaction_id = data.get("transactionId")
    min_rate = schedule.get("minChargingRate")
    return ChargingProfile(
        profile_id=int(data["id"]),
        stack_level=int(data["stackLevel"]),
        purpose=_PURPOSES_2X[data["chargingProfilePurpose"]],
        kind=ProfileKind(str(data["chargingProfileKind"]).lower()),
        rate_unit=RateUnit(schedule["chargingRateUnit"]),
        periods=periods,
        connector_id=evse_id,
        installed_at=installed_at,
        transaction_id=None if transaction_id is None else str(transaction_id),
        recurrency=Recurrency(str(recurrency).lower()) if recurrency else None,
        valid_from=parse_time(data["validFrom"]) if data.get("validFrom") else None,
        valid_to=parse_time(data["validTo"]) if data.get("validTo") else None,
        start_schedule=parse_time(schedule["startSchedule"]) if schedule.get("startSchedule") else None,
        duration_s=int(schedule["duration"]) if schedule.get("duration") is not None else None,
        min_charging_rate=float(min_rate) if min_rate is not None else None,
    )


def id_token(token: str, token_type: str) -> Payload:
    return {"idToken": token, "type": token_type}


def auth_entry_2x(info: Mapping[str, Any]) -> AuthEntry:
    """IdTokenInfoType → the neutral authorization entry (groupIdToken as parent)."""
    try:
        status = AuthStatus(str(info.get("status")))
    except ValueError:
        status = AuthStatus.INVALID
    expiry = info.get("cacheExpiryDateTime")
    group = info.get("groupIdToken")
    return AuthEntry(
        status=status,
        expires_at=parse_time(str(expiry)) if expiry else None,
        parent_id_tag=str(group["idToken"]) if isinstance(group, Mapping) else None,
    )


def chunks(items: list[Any], size: int) -> list[list[Any]]:
    """``items`` in pieces of at most ``size`` (one empty piece for no items)."""
    if not items:
        return [[]]
    return [items[i : i + size] for i in range(0, len(items), size)]


#: SetDERControl controlType → (its settings field, ReportDERControl list, the field there);
#: every other control type is a curve.
_DER_FIELDS = {
    "EnterService": ("enterService", "enterService", "enterService"),
    "FixedPFAbsorb": ("fixedPFAbsorb", "fixedPFAbsorb", "fixedPF"),
    "FixedPFInject": ("fixedPFInject", "fixedPFInject", "fixedPF"),
    "FixedVar": ("fixedVar", "fixedVar", "fixedVar"),
    "FreqDroop": ("freqDroop", "freqDroop", "freqDroop"),
    "Gradients": ("gradient", "gradient", "gradient"),
    "LimitMaxDischarge": ("limitMaxDischarge", "limitMaxDischarge", "limitMaxDischarge"),
}


def status_info(reason: str, additional: str | None = None) -> Payload:
    info: Payload = {"reasonCode": reason[:20]}
    if additional:
        info["additionalInfo"] = additional[:512]
    return info


def _answer(status: str, reason: str | None = None, **extra: Any) -> Payload:
    payload: Payload = {"status": status, **extra}
    if reason is not None:
        payload["statusInfo"] = status_info(reason)
    return payload


def _hash_data(h: CertificateHash) -> Payload:
    return {
        "hashAlgorithm": h.hash_algorithm,
        "issuerNameHash": h.issuer_name_hash,
        "issuerKeyHash": h.issuer_key_hash,
        "serialNumber": h.serial_number,
    }


# --- the connection -----------------------------------------------------------------------------


class _RawCalls:
    """What the station's ChargePoint adds to the ``ocpp`` library's (2.0.1 or 2.1) one.

    ``_handle_call`` replaces the library's: it answers an action without a handler with a
    CALLERROR (NotImplemented for an action the version does not know, NotSupported for one it
    knows; OCPP-J "CallError"), which the library fails to do for 2.1, and it hands the payload
    over unchanged. ``call_raw`` sends a CALL and returns the CALLRESULT payload, both validated.
    """

    station: SimulatedStation201

    async def _handle_call(self, msg: Any) -> None:
        wire: Any = self
        station = self.station
        version = str(wire._ocpp_version)
        handler = station._handlers.get(msg.action)
        if handler is None:
            if msg.action in station._known_actions:
                raise NotSupportedError(details={"cause": f"{msg.action} is not supported by this station"})
            raise OcppNotImplementedError(details={"cause": f"{msg.action} is not an OCPP {version} action"})
        if station.boot_status == "Rejected":
            # B03.FR.08: while rejected, a CSMS-initiated message gets SecurityError.
            raise SecurityError(details={"cause": "the CSMS rejected this station's BootNotification"})
        await validate_payload(msg, version)
        try:
            answer = handler(msg.payload, msg.unique_id)
        except OCPPError:
            station._followups.pop(msg.unique_id, None)
            raise
        except Exception as exc:
            station._followups.pop(msg.unique_id, None)
            LOGGER.exception("%s: handling %s failed", station.station_id, msg.action)
            raise InternalError(details={"cause": repr(exc)[:200]}) from exc
        result = msg.create_call_result(answer)
        try:
            await validate_payload(result, version)
        except OCPPError as exc:
            station._followups.pop(msg.unique_id, None)
            LOGGER.error(
                "%s: the answer to %s is invalid: %r %s", station.station_id, msg.action, exc, answer
            )
            raise InternalError(details={"cause": "the station built an invalid answer"}) from exc
        await wire._send(result.to_json())
        station._reply_sent(msg.unique_id)

    async def call_raw(self, action: str, payload: Payload) -> Payload:
        wire: Any = self
        version = str(wire._ocpp_version)
        message = Call(unique_id=str(uuid.uuid4()), action=action, payload=payload)
        await validate_payload(message, version)
        async with wire._call_lock:
            await wire._send(message.to_json())
            response = await wire._get_specific_response(message.unique_id, wire._response_timeout)
        if response.message_type_id == MessageType.CallError:
            raise response.to_exception()
        response.action = action
        await validate_payload(response, version)
        return dict(response.payload)


class _Wire(_RawCalls, ChargePoint201):  # type: ignore[misc]
    """An ``ocpp.v201.ChargePoint`` with raw payloads (2.0.1 schemas)."""


class _Wire21(_RawCalls, ChargePoint21):  # type: ignore[misc]
    """An ``ocpp.v21.ChargePoint`` with raw payloads (2.1 schemas)."""


class _Link:
    """The connection the ``ocpp`` ChargePoint talks through; it records the CSMS's calls."""

    def __init__(self, station: SimulatedStation201, ws: ClientConnection) -> None:
        self._station = station
        self._ws = ws

    async def recv(self) -> str:
        raw = await self._ws.recv()
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        self._station._observe_incoming(text)
        return text

    async def send(self, message: str) -> None:
        await self._ws.send(message)


# --- station state that 1.6 does not have ---------------------------------------------------------


@dataclass
class _SessionControl:
    stop: asyncio.Event
    finished: asyncio.Event
    reason: StopReason = StopReason.LOCAL
    id_token_type: str = "ISO14443"
    remote_start_id: int | None = None
    #: The next TransactionEvent's seqNo (E01: from 0, one more for every event).
    seq_no: int = 0
    charging_state: str | None = None
    ended_samples: list[MeterSample] = field(default_factory=list)


@dataclass
class _Queued:
    action: str
    payload: Payload
    on_result: Callable[[Payload], None] | None
    done: asyncio.Future[Payload | None]
    attempts: int = 0


@dataclass
class DisplayMessage:
    """A MessageInfoType as the CSMS set it (O01)."""

    message_id: int
    info: Payload

    @property
    def priority(self) -> str:
        return str(self.info["priority"])

    @property
    def state(self) -> str | None:
        state = self.info.get("state")
        return None if state is None else str(state)

    @property
    def transaction_id(self) -> str | None:
        tx = self.info.get("transactionId")
        return None if tx is None else str(tx)

    def expired(self, at: datetime) -> bool:
        end = self.info.get("endDateTime")
        return end is not None and parse_time(str(end)) <= at


class SimulatedStation201:
    """A simulated OCPP 2.0.1 (or 2.1) charging station with ``connectors`` single-connector EVSEs.

    Library use (e2e tests)::

        station = SimulatedStation201("SIM-0001", "ws://127.0.0.1:8000/ocpp")
        await station.start()                      # connect, boot, statuses, heartbeats
        tx_id = await station.plug_in_and_charge(1, "TAG1")
        await station.stop_session(1)
        await station.close()

    ``received_calls`` lists every CSMS call as (action, payload); ``sent_calls`` every call
    this station sent as (action, payload), both in OCPP's camelCase form.
    """

    def __init__(
        self,
        station_id: str,
        url: str = "ws://127.0.0.1:8000/ocpp",
        *,
        version: str = "2.0.1",
        connectors: int = 1,
        password: str | None = None,
        id_tag: str = "SIMTAG",
        id_token_type: str = "ISO14443",
        meter_interval_s: int = 10,
        heartbeat_interval_s: int | None = None,
        aligned_interval_s: int = 0,
        time_scale: float = 1.0,
        max_current_a: float = 32.0,
        phases: int = 3,
        vendor: str = "VoltHub",
        model: str = "SimCharger-22",
        firmware_version: str = "sim-1.0.0",
        rng: random.Random | None = None,
        stats: SimStats | None = None,
        response_timeout_s: float = 30.0,
        open_timeout_s: float = 10.0,
        timings: StationTimings | None = None,
        record_sent_calls: bool = True,
        offline_every_s: float | None = None,
        offline_for_s: float = 10.0,
    ) -> None:
        if version not in VERSIONS:
            raise ValueError(f"OCPP version {version!r}: one of {', '.join(VERSIONS)}")
        if connectors < 1:
            raise ValueError("a station needs at least one EVSE")
        if time_scale <= 0:
            raise ValueError("time_scale must be positive")
        self.station_id = station_id
        self.url = url
        self.version = version
        self.subprotocol = SUBPROTOCOLS[version]
        self.id_tag = id_tag
        self.id_token_type = id_token_type
        self.vendor = vendor
        self.model = model
        self.firmware_version = firmware_version
        self.time_scale = time_scale
        self.rng = rng or random.Random()
        self.stats = stats or SimStats()
        self.timings = timings or StationTimings()
        self.response_timeout_s = response_timeout_s
        self.open_timeout_s = open_timeout_s
        self.record_sent_calls = record_sent_calls
        self.offline_every_s = offline_every_s
        self.offline_for_s = offline_for_s
        self.planner = SessionPlanner(self.rng, time_scale)
        self._heartbeat_override_s = heartbeat_interval_s

        self.connectors: dict[int, Connector] = {
            n: Connector(n, max_current_a, phases, meter_register_wh=float(self.rng.randrange(0, 5_000_000)))
            for n in range(1, connectors + 1)
        }
        for connector in self.connectors.values():
            connector.last_sample_register_wh = connector.meter_register_wh
        self.station_operative = True
        #: EVSEs whose connector is Faulted (``set_faulted``).
        self.faulted: set[int] = set()
        self.local_list = LocalAuthList(1000)
        self.auth_cache: dict[str, AuthEntry] = {}
        self.certificates = CertificateStore(20)
        #: The station's own certificate chains by CertificateSigningUse.
        self.signed_chains: dict[str, list[CertificateInfo]] = {}
        self.reservations: dict[int, Reservation] = {}
        self.display_messages: dict[int, DisplayMessage] = {}
        self.network_profiles: dict[int, Payload] = {}
        self.costs: dict[str, float] = {}
        #: 2.1: DER controls by controlId, tariffs by tariffId (with the EVSEs they apply to).
        self.der_controls: dict[str, Payload] = {}
        self.tariffs: dict[str, tuple[Payload, set[int]]] = {}
        self.transaction_tariffs: dict[str, Payload] = {}

        self.device_model: DeviceModel = default_device_model(
            StationFacts(
                evse_count=connectors,
                vendor=vendor,
                model=model,
                serial_number=station_id[:25],
                firmware_version=firmware_version,
                max_current_a=max_current_a,
                phases=phases,
                heartbeat_interval_s=heartbeat_interval_s or 300,
                meter_interval_s=meter_interval_s,
                basic_auth_password=password,
                availability=self._availability,
                power_w=self.power_w,
                counts={
                    "LocalListEntries": lambda: len(self.local_list.entries),
                    "ChargingProfiles": lambda: len(self.profiles.profiles),
                    "DisplayMessages": lambda: len(self.display_messages),
                    "Certificates": lambda: len(self.certificates.installed),
                    "AuthCacheStorage": lambda: sum(len(t) + 16 for t in self.auth_cache),
                },
            )
        )
        self.device_model.put("AlignedDataCtrlr.Interval", str(aligned_interval_s))
        self.device_model.on_change(self._variable_changed)
        dm = self.device_model
        self.profiles = ProfileStore(
            StationCapabilities(
                connector_count=connectors,
                max_current_a=max_current_a,
                phases=phases,
                max_stack_level=dm.get_int("SmartChargingCtrlr.ProfileStackLevel", 10),
                max_schedule_periods=dm.get_int("SmartChargingCtrlr.PeriodsPerSchedule", 24),
                max_profiles=20,
            )
        )
        self._profile_data: dict[int, Payload] = {}

        #: Every CSMS call received: (action, payload).
        self.received_calls: list[tuple[str, Payload]] = []
        #: Every call this station sent: (action, payload), if recorded.
        self.sent_calls: list[tuple[str, Payload]] = []
        self.boot_status: str | None = None
        self.heartbeat_interval_s: int = dm.get_int("OCPPCommCtrlr.HeartbeatInterval", 300)
        self.firmware_status = "Idle"
        self.firmware_request_id: int | None = None
        self.log_status = "Idle"
        self.log_request_id: int | None = None
        self.publish_status = "Idle"
        self.published: tuple[str, list[str]] | None = None
        self.publish_request_id: int | None = None
        self.security_log: list[tuple[datetime, str, str | None]] = []

        self._handlers: dict[str, Callable[[Payload, str], Payload]] = {
            action: getattr(self, name)
            for action, (name, since) in _HANDLERS.items()
            if since == "2.0.1" or version == "2.1"
        }
        enum = Action21 if version == "2.1" else Action201
        self._known_actions = frozenset(str(a.value) for a in enum)

        self._ws: ClientConnection | None = None
        self._wire: _RawCalls | None = None
        self._connection_lost: asyncio.Future[None] | None = None
        self._online = asyncio.Event()
        self._registered = asyncio.Event()
        #: Cleared during a forced outage: nothing connects until ``go_online``.
        self._may_connect = asyncio.Event()
        self._may_connect.set()
        self._closing = False
        self._holding_offline = False
        self._out_lock = asyncio.Lock()
        self._queue: deque[_Queued] = deque()
        self._queue_wakeup = asyncio.Event()
        self._queue_changed = asyncio.Event()
        self._drainer: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._reader: asyncio.Task[None] | None = None
        self._reconnector: asyncio.Task[None] | None = None
        self._background: list[asyncio.Task[None]] = []
        self._outage_task: asyncio.Task[None] | None = None
        self._followups: dict[str, Callable[[], Coroutine[Any, Any, None]]] = {}
        self._controls: dict[int, _SessionControl] = {}
        self._session_tasks: dict[int, asyncio.Task[None]] = {}
        self._reservation_timers: dict[int, asyncio.Task[None]] = {}
        self._heartbeat_wakeup = asyncio.Event()
        self._aligned_wakeup = asyncio.Event()
        self._call_arrived = asyncio.Event()
        self._firmware_task: asyncio.Task[Any] | None = None
        self._log_task: asyncio.Task[Any] | None = None
        self._publish_task: asyncio.Task[Any] | None = None
        self._csr_tasks: dict[str, asyncio.Task[None]] = {}
        self._pending_keys: dict[str, SigningRequest] = {}
        self._certificate_signed = asyncio.Event()
        self._boot_reason = "PowerUp"
        self._reset_when_idle = False
        self._winding_down = False
        self._credentials_changed = False
        self._auto_mode = False

    # --- public API ---------------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        return self._online.is_set()

    @property
    def registered(self) -> bool:
        """Accepted by a BootNotification (and not rebooted since)."""
        return self._registered.is_set()

    @property
    def queued_messages(self) -> list[tuple[str, Payload]]:
        """The messages waiting in the offline queue, oldest first."""
        return [(item.action, item.payload) for item in self._queue]

    async def connect(self) -> None:
        """Open the WebSocket ``{url}/{station_id}`` with subprotocol ocpp2.0.1 or ocpp2.1 (and
        HTTP Basic auth with SecurityCtrlr.BasicAuthPassword). Raises StationConnectionError."""
        if self._ws is not None:
            return
        uri = f"{self.url.rstrip('/')}/{self.station_id}"
        headers: dict[str, str] = {}
        password = self.device_model.get("SecurityCtrlr.BasicAuthPassword")
        if password:
            # A01: user = the station identity, password = BasicAuthPassword.
            token = base64.b64encode(f"{self.station_id}:{password}".encode()).decode("ascii")
            headers["Authorization"] = f"Basic {token}"
        ping_s = self.device_model.get_int("OCPPCommCtrlr.WebSocketPingInterval", 0)
        try:
            ws = await connect(
                uri,
                subprotocols=[Subprotocol(self.subprotocol)],
                additional_headers=headers,
                open_timeout=self.open_timeout_s,
                ping_interval=ping_s or None,
                ping_timeout=ping_s or None,
                compression=None,
                proxy=None,
                max_size=None,
            )
        except InvalidStatus as exc:
            self.stats.connection_failures += 1
            status = exc.response.status_code
            if status == 401:
                self._security_event("FailedToAuthenticateAtCsms", None)
            raise StationConnectionError(f"{uri}: handshake refused with HTTP {status}") from exc
        except (OSError, WebSocketException, TimeoutError) as exc:
            self.stats.connection_failures += 1
            raise StationConnectionError(f"{uri}: {exc!r}") from exc
        if ws.subprotocol != self.subprotocol:
            await ws.close()
            self.stats.connection_failures += 1
            raise StationConnectionError(f"{uri}: the server did not select {self.subprotocol}")
        self._attach(ws)

    async def boot(self, *, retry: bool = True) -> str:
        """Send BootNotification; while Pending or Rejected, retry after the interval the CSMS
        gave (B02/B03). Returns the last registration status."""
        while not self._closing:
            if not self.connected:
                await self._connect_with_retry()
                continue
            result = await self._call("BootNotification", self._boot_payload(), before_boot=True)
            if result is None:
                if not retry:
                    return "NoAnswer"
                await asyncio.sleep(min(5.0, self.timings.reconnect_max_s))
                continue
            status = str(result["status"])
            interval_s = int(result["interval"])
            self._boot_answered(status, interval_s)
            if status == "Accepted" or not retry:
                return status
            # B02.FR.?/B03.FR.06: after the interval (the station's choice when 0) boot again.
            wait_s = interval_s or 30
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._registered.wait(), wait_s)
            if self.registered:
                return "Accepted"
        return self.boot_status or "NoAnswer"

    async def start(self) -> None:
        """Connect, boot until Accepted, send the EVSEs' statuses, start heartbeats."""
        self._ensure_drainer()
        await self.connect()
        await self._after_connect()
        self._start_outages()

    async def run(self, *, sessions_per_connector: int | None = None) -> None:
        """Runner mode: come online (retrying), then charge randomly arriving EVs on every
        EVSE, ``sessions_per_connector`` times each (None: until closed)."""
        self._auto_mode = True
        self._ensure_drainer()
        await self._connect_with_retry()
        await self._after_connect()
        self._start_outages()
        await asyncio.gather(*(self._auto_sessions(e, sessions_per_connector) for e in self.connectors))

    async def plug_in_and_charge(
        self,
        evse_id: int = 1,
        token: str | None = None,
        *,
        token_type: str | None = None,
        ev: ElectricVehicle | None = None,
        max_duration_s: float | None = None,
        stop_when_full: bool = False,
    ) -> str:
        """Plug an EV in, authorize ``token``, start a transaction; return its transactionId.

        Works offline too (local list, cache or OfflineTxForUnknownIdEnabled), queueing the
        TransactionEvents. Raises SessionError when the EVSE is not free or the token refused.
        """
        connector = self._connector(evse_id)
        tag = token or self.id_tag
        if not self._connector_free(connector, tag):
            raise SessionError(f"EVSE {evse_id} is {connector_status_2x(connector.status)}")
        session = self._claim(connector, tag, ev, max_duration_s, stop_when_full, remote=False)
        self._controls[evse_id].id_token_type = token_type or self.id_token_type
        return await self._start_session(connector, session, profile=None)

    async def stop_session(self, evse_id: int = 1, reason: StopReason | str = StopReason.LOCAL) -> None:
        """End the session on ``evse_id`` (TransactionEvent Ended, then the EV leaves)."""
        control = self._controls.get(evse_id)
        if control is None:
            return
        control.reason = StopReason(reason)
        control.stop.set()
        await control.finished.wait()

    async def wait_session_end(self, evse_id: int = 1) -> None:
        control = self._controls.get(evse_id)
        if control is not None:
            await control.finished.wait()

    def transaction_id(self, evse_id: int = 1) -> str | None:
        session = self._connector(evse_id).session
        return None if session is None else session.transaction_id

    def status(self, evse_id: int = 1) -> str:
        """ConnectorStatusEnumType of the EVSE's connector."""
        return connector_status_2x(self._connector(evse_id).status)

    def charging_limit_w(self, evse_id: int = 1) -> float | None:
        connector = self._connector(evse_id)
        session = connector.session
        limit = self._profile_limit(connector)
        if limit is None:
            return None
        return limit.to_watts(session.ev.phases if session is not None else None)

    def offered_power_w(self, evse_id: int = 1) -> float:
        connector = self._connector(evse_id)
        return self._offer_for(connector) if connector.session is not None else 0.0

    def power_w(self, evse_id: int = 1) -> float:
        session = self._connector(evse_id).session
        return session.power_w if session is not None else 0.0

    def meter_register_wh(self, evse_id: int = 1) -> float:
        connector = self._connector(evse_id)
        if connector.session is not None:
            self._advance(connector)
        return connector.meter_register_wh

    async def wait_for_call(self, action: str, *, timeout_s: float = 10.0, since: int = 0) -> Payload:
        """The payload of the first ``action`` call received at index ``since`` or later."""
        deadline = time.monotonic() + timeout_s
        while True:
            for name, payload in self.received_calls[since:]:
                if name == action:
                    return payload
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"{self.station_id}: no {action} within {timeout_s} s")
            arrived = self._call_arrived
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(arrived.wait(), remaining)

    async def send_status_notifications(self) -> None:
        """StatusNotification for the connector of each EVSE."""
        for evse_id in self.connectors:
            await self._send_status(evse_id)

    async def heartbeat(self) -> str | None:
        """Send one Heartbeat; return the CSMS's currentTime."""
        result = await self._call("Heartbeat", {})
        return None if result is None else str(result["currentTime"])

    async def authorize(self, token: str, token_type: str | None = None) -> str:
        """Send Authorize; return the idTokenInfo status ("NoAnswer" when unanswered)."""
        result = await self._call("Authorize", {"idToken": id_token(token, token_type or self.id_token_type)})
        return "NoAnswer" if result is None else str(result["idTokenInfo"]["status"])

    async def data_transfer(
        self, vendor_id: str, message_id: str | None = None, data: Any = None
    ) -> tuple[str, Any] | None:
        payload: Payload = {"vendorId": vendor_id}
        if message_id is not None:
            payload["messageId"] = message_id
        if data is not None:
            payload["data"] = data
        result = await self._call("DataTransfer", payload)
        return None if result is None else (str(result["status"]), result.get("data"))

    async def request_certificate(self, certificate_type: str = "ChargingStationCertificate") -> str | None:
        """A03: make a key and CSR and send SignCertificate; return the CSMS's status."""
        return await self._sign_certificate(certificate_type, repeat=False)

    async def set_faulted(self, evse_id: int = 1, faulted: bool = True) -> None:
        """Put the EVSE's connector in Faulted (a session on it ends, AbnormalCondition) or
        clear the fault; a Faulted connector takes no new session or reservation."""
        connector = self._connector(evse_id)
        if faulted:
            self.faulted.add(evse_id)
            control = self._controls.get(evse_id)
            if control is not None:
                control.reason = StopReason.OTHER
                control.stop.set()
                await control.finished.wait()
        else:
            self.faulted.discard(evse_id)
        if not connector.busy:
            await self._set_status(connector, self._idle_status(connector))

    async def go_offline(self) -> None:
        """Force an outage: drop the connection and stay offline until ``go_online``. Sessions
        go on; their TransactionEvents are queued with ``offline: true``."""
        self._may_connect.clear()
        if self._reconnector is not None and self._reconnector is not asyncio.current_task():
            self._reconnector.cancel()
        await self._go_offline()

    async def go_online(self) -> None:
        """End a forced outage: reconnect (without a new boot) and replay the queue."""
        if self._may_connect.is_set():
            return
        self._may_connect.set()
        if self.registered and not self.connected and not self._closing:
            self._reconnector = self._spawn(self._reconnect())
            await asyncio.gather(self._reconnector, return_exceptions=True)

    async def wait_queue(self, predicate: Callable[[int], bool], timeout_s: float = 10.0) -> None:
        """Wait until ``predicate(number of queued messages)`` holds."""
        deadline = time.monotonic() + timeout_s
        while not predicate(len(self._queue)):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"{self.station_id}: {len(self._queue)} messages queued")
            changed = self._queue_changed
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), remaining)

    async def wait_queue_empty(self, timeout_s: float = 10.0) -> None:
        await self.wait_queue(lambda queued: queued == 0, timeout_s)

    async def shutdown(self, *, stop_sessions: bool = True, timeout_s: float = 10.0) -> None:
        """End a forced outage, end running sessions (TransactionEvent Ended) when asked, give
        the queue up to ``timeout_s`` to reach the CSMS, then close."""
        self._winding_down = True  # no new sessions from here on
        if self._outage_task is not None:
            self._outage_task.cancel()
            await asyncio.gather(self._outage_task, return_exceptions=True)

        async def wind_down() -> None:
            if not self._may_connect.is_set():
                await self.go_online()
            if stop_sessions:
                await asyncio.gather(
                    *(self.stop_session(e) for e in list(self._controls)), return_exceptions=True
                )
            if self.registered:
                await self.wait_queue_empty(timeout_s)

        if self.registered:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wind_down(), timeout_s)
        await self.close()

    async def close(self) -> None:
        """Close the connection and stop every task of this station."""
        if self._closing:
            return
        self._closing = True
        current = asyncio.current_task()
        tasks = [
            t
            for t in [
                *self._tasks,
                *self._background,
                *self._session_tasks.values(),
                *([self._drainer] if self._drainer else []),
                *([self._outage_task] if self._outage_task else []),
            ]
            if t is not current
        ]
        for task in tasks:
            task.cancel()
        ws = self._ws
        if ws is not None:
            with contextlib.suppress(Exception):
                await ws.close()
        reader = self._reader
        if reader is not None and reader is not current:
            tasks.append(reader)
        await asyncio.gather(*tasks, return_exceptions=True)
        for item in self._queue:
            if not item.done.done():
                item.done.cancel()
        if self.registered:
            self._registered.clear()
            self.stats.booted -= 1

    # --- connection ---------------------------------------------------------------------------

    def _attach(self, ws: ClientConnection) -> None:
        wire_class: Any = _Wire21 if self.version == "2.1" else _Wire
        wire: Any = wire_class(self.station_id, _Link(self, ws), response_timeout=self.response_timeout_s)
        wire.station = self
        self._ws = ws
        self._wire = wire
        self._connection_lost = asyncio.get_running_loop().create_future()
        self._online.set()
        self.stats.connected += 1
        self._reader = asyncio.create_task(self._read(wire, ws), name=f"{self.station_id}-reader")

    async def _read(self, wire: Any, ws: ClientConnection) -> None:
        try:
            await wire.start()
        except ConnectionClosed:
            pass
        except Exception:
            LOGGER.exception("%s: reading the connection failed", self.station_id)
            with contextlib.suppress(Exception):
                await ws.close()
        finally:
            self._lost(ws)

    def _lost(self, ws: ClientConnection) -> None:
        if ws is not self._ws:
            return
        self._ws = None
        self._wire = None
        self._online.clear()
        self.stats.connected -= 1
        if self._connection_lost is not None and not self._connection_lost.done():
            self._connection_lost.set_result(None)
        # A station in service reconnects by itself; until its boot is accepted, ``boot`` does.
        if self.registered and not (self._closing or self._holding_offline) and self._may_connect.is_set():
            LOGGER.info("%s: connection lost, reconnecting", self.station_id)
            self._reconnector = self._spawn(self._reconnect())

    async def _reconnect(self) -> None:
        await self._connect_with_retry()
        await self._after_connect()

    async def _connect_with_retry(self) -> None:
        # B: RetryBackOffWaitMinimum, doubled RetryBackOffRepeatTimes times, plus a random part.
        dm = self.device_model
        delay_s = float(max(1, dm.get_int("OCPPCommCtrlr.RetryBackOffWaitMinimum", 1)))
        doublings = 0
        while not self._closing:
            await self._may_connect.wait()
            try:
                await self.connect()
                return
            except StationConnectionError as exc:
                LOGGER.info("%s: %s; retrying in %.0f s", self.station_id, exc, delay_s)
            await asyncio.sleep(delay_s * self.rng.uniform(0.8, 1.2))
            if doublings < dm.get_int("OCPPCommCtrlr.RetryBackOffRepeatTimes", 5):
                delay_s = min(delay_s * 2, self.timings.reconnect_max_s)
                doublings += 1

    async def _after_connect(self) -> None:
        """Boot unless still accepted from before (a reconnect need not boot again), then
        announce the connectors and start the periodic messages."""
        if not self.registered:
            await self.boot()
        await self.send_status_notifications()
        self._start_background()
        self._queue_wakeup.set()

    async def _go_offline(self) -> None:
        """Close the connection on purpose (reboot, outage, new password) without reconnecting."""
        self._holding_offline = True
        try:
            ws, reader = self._ws, self._reader
            if ws is not None:
                with contextlib.suppress(Exception):
                    await ws.close()
            if reader is not None and reader is not asyncio.current_task():
                await asyncio.gather(reader, return_exceptions=True)
        finally:
            self._holding_offline = False

    def _start_outages(self) -> None:
        if self.offline_every_s and (self._outage_task is None or self._outage_task.done()):
            self._outage_task = asyncio.create_task(self._outages(), name=f"{self.station_id}-outages")

    async def _outages(self) -> None:
        """``--offline-every``: lose the connection every so often, for ``offline_for_s``."""
        assert self.offline_every_s is not None
        while not self._closing:
            await asyncio.sleep(self.offline_every_s * self.rng.uniform(0.5, 1.5))
            if not self.registered:
                continue
            LOGGER.info("%s: simulated outage for %.0f s", self.station_id, self.offline_for_s)
            await self.go_offline()
            await asyncio.sleep(self.offline_for_s)
            await self.go_online()

    def _observe_incoming(self, text: str) -> None:
        try:
            message = json.loads(text)
        except ValueError:
            return
        if isinstance(message, list) and len(message) >= 4 and message[0] == 2:
            self.received_calls.append((str(message[2]), message[3]))
            self.stats.commands_received += 1
            arrived, self._call_arrived = self._call_arrived, asyncio.Event()
            arrived.set()

    def _after_reply(self, unique_id: str, followup: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """Run ``followup`` once the answer to call ``unique_id`` has been sent."""
        self._followups[unique_id] = followup

    def _reply_sent(self, unique_id: str) -> None:
        followup = self._followups.pop(unique_id, None)
        if followup is not None:
            self._spawn(followup())

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.create_task(self._guard(coroutine))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _guard(self, coroutine: Coroutine[Any, Any, None]) -> None:
        try:
            await coroutine
        except asyncio.CancelledError:
            raise
        except Exception:
            LOGGER.exception("%s: background task failed", self.station_id)

    # --- sending ------------------------------------------------------------------------------

    def _may_send(self, before_boot: bool) -> bool:
        return self._online.is_set() and (before_boot or self._registered.is_set())

    async def _exchange(self, action: str, payload: Payload) -> tuple[str, Any]:
        """One CALL on the present connection: ("ok", result), ("error", exc) or ("lost", None)."""
        async with self._out_lock:
            wire, lost = self._wire, self._connection_lost
            if wire is None or lost is None or lost.done():
                return "lost", None
            if self.record_sent_calls:
                self.sent_calls.append((action, payload))
            self.stats.calls_sent += 1
            pending = asyncio.ensure_future(wire.call_raw(action, payload))
            racing: set[asyncio.Future[Any]] = {pending, lost}
            await asyncio.wait(racing, return_when=asyncio.FIRST_COMPLETED)
            if not pending.done():
                pending.cancel()
                await asyncio.gather(pending, return_exceptions=True)
                return "lost", None
            try:
                return "ok", pending.result()
            except OCPPError as exc:
                self.stats.call_errors += 1
                LOGGER.warning("%s: %s answered with %r", self.station_id, action, exc)
                return "error", exc
            except TimeoutError as exc:
                self.stats.timeouts += 1
                LOGGER.warning("%s: %s not answered in time", self.station_id, action)
                return "error", exc
            except (ConnectionClosed, WebSocketException):
                return "lost", None

    async def _call(self, action: str, payload: Payload, *, before_boot: bool = False) -> Payload | None:
        """Send one CALL now and return the CALLRESULT payload, or None when offline, not yet
        accepted (unless ``before_boot``), answered with a CALLERROR or not at all."""
        if self._closing or not self._may_send(before_boot):
            return None
        outcome, result = await self._exchange(action, payload)
        return result if outcome == "ok" else None

    def _ensure_drainer(self) -> None:
        if self._drainer is None or self._drainer.done():
            self._drainer = asyncio.create_task(self._drain(), name=f"{self.station_id}-queue")

    async def _send_queued(
        self, action: str, payload: Payload, on_result: Callable[[Payload], None] | None = None
    ) -> Payload | None:
        """Queue a message that must reach the CSMS (E04, F06): TransactionEvent, MeterValues,
        SecurityEventNotification. Online, wait until it is delivered (so that what follows
        keeps its order); offline, return at once: the queue is replayed after reconnecting."""
        self._ensure_drainer()
        item = _Queued(action, payload, on_result, asyncio.get_running_loop().create_future())
        self._queue.append(item)
        self._queue_touched()
        self._queue_wakeup.set()
        lost = self._connection_lost
        if not self._may_send(False) or lost is None or lost.done():
            return None
        racing: set[asyncio.Future[Any]] = {item.done, lost}
        await asyncio.wait(racing, return_when=asyncio.FIRST_COMPLETED)
        if item.done.done() and not item.done.cancelled():
            return item.done.result()
        return None

    def _queue_touched(self) -> None:
        changed, self._queue_changed = self._queue_changed, asyncio.Event()
        changed.set()

    async def _drain(self) -> None:
        """Deliver queued messages in order; a CALLERROR or timeout is retried after
        MessageAttemptInterval x attempts, up to MessageAttempts times (E13)."""
        dm = self.device_model
        while not self._closing:
            if not self._queue:
                self._queue_wakeup.clear()
                await self._queue_wakeup.wait()
                continue
            if not self._may_send(False):
                self._queue_wakeup.clear()
                waits = [asyncio.ensure_future(self._queue_wakeup.wait())]
                waits.append(
                    asyncio.ensure_future(self._registered.wait() if self.connected else self._online.wait())
                )
                try:
                    await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    for waiter in waits:
                        waiter.cancel()
                continue
            item = self._queue[0]
            outcome, result = await self._exchange(item.action, item.payload)
            if outcome == "lost":
                # The reader notices the closed connection in a moment; then it is offline.
                await asyncio.sleep(0.05)
                continue
            if outcome == "ok":
                self._queue.popleft()
                self._queue_touched()
                if not item.done.done():
                    item.done.set_result(result)
                if item.on_result is not None:
                    try:
                        item.on_result(result)
                    except Exception:
                        LOGGER.exception("%s: handling the answer to %s failed", self.station_id, item.action)
                continue
            item.attempts += 1
            if item.attempts >= max(1, dm.get_int("OCPPCommCtrlr.MessageAttempts[TransactionEvent]", 3)):
                LOGGER.warning(
                    "%s: dropping %s after %d attempts", self.station_id, item.action, item.attempts
                )
                self._queue.popleft()
                self._queue_touched()
                if not item.done.done():
                    item.done.set_result(None)
                continue
            interval_s = dm.get_int("OCPPCommCtrlr.MessageAttemptInterval[TransactionEvent]", 10)
            await asyncio.sleep(interval_s * item.attempts)

    def _boot_payload(self) -> Payload:
        return {
            "chargingStation": {
                "model": self.model[:20],
                "vendorName": self.vendor[:50],
                "serialNumber": self.station_id[:25],
                "firmwareVersion": self.firmware_version[:50],
            },
            "reason": self._boot_reason,
        }

    def _boot_answered(self, status: str, interval_s: int) -> None:
        self.boot_status = status
        if status != "Accepted":
            return
        # B01.FR.04: on Accepted the station takes the heartbeat interval given.
        interval = self._heartbeat_override_s if self._heartbeat_override_s else interval_s
        self.device_model.put("OCPPCommCtrlr.HeartbeatInterval", str(interval))
        self._set_heartbeat_interval(interval)
        self._boot_reason = "PowerUp"
        if not self.registered:
            self._registered.set()
            self.stats.booted += 1
            self._queue_wakeup.set()

    def _set_heartbeat_interval(self, interval_s: int) -> None:
        self.heartbeat_interval_s = interval_s
        self._heartbeat_wakeup.set()

    async def _send_status(self, evse_id: int, *, before_boot: bool = False) -> None:
        connector = self._connector(evse_id)
        await self._call(
            "StatusNotification",
            {
                "timestamp": iso(utc_now()),
                "connectorStatus": connector_status_2x(connector.status),
                "evseId": evse_id,
                "connectorId": CONNECTOR_ID,
            },
            before_boot=before_boot,
        )

    async def _set_status(self, connector: Connector, status: ConnectorStatus) -> None:
        """Change the connector's state; a StatusNotification goes out when its 2.x status
        (Available, Occupied, Reserved, Unavailable, Faulted) changes."""
        if connector.status is status:
            return
        before = connector_status_2x(connector.status)
        connector.status = status
        if connector_status_2x(status) != before:
            await self._send_status(connector.connector_id)

    def _availability(self, evse_id: int | None) -> str:
        if evse_id is None:
            return "Available" if self.station_operative else "Unavailable"
        connector = self.connectors.get(evse_id)
        return "Unavailable" if connector is None else connector_status_2x(connector.status)

    def _security_event(self, event: str, tech_info: str | None, *, send: bool = False) -> None:
        """Log a security event; push it to the CSMS when ``send`` (A04: the critical ones)."""
        self.security_log.append((utc_now(), event, tech_info))
        if send:
            payload: Payload = {"type": event, "timestamp": iso(utc_now())}
            if tech_info:
                payload["techInfo"] = tech_info[:255]
            self._spawn(self._send_queued_quietly("SecurityEventNotification", payload))

    async def _send_queued_quietly(self, action: str, payload: Payload) -> None:
        await self._send_queued(action, payload)

    # --- periodic messages --------------------------------------------------------------------

    def _start_background(self) -> None:
        if any(not task.done() for task in self._background):
            return
        self._background = [
            asyncio.create_task(self._heartbeat_loop(), name=f"{self.station_id}-heartbeat"),
            asyncio.create_task(self._aligned_loop(), name=f"{self.station_id}-aligned"),
        ]

    def _stop_background(self) -> None:
        for task in self._background:
            task.cancel()
        self._background = []

    async def _heartbeat_loop(self) -> None:
        while True:
            self._heartbeat_wakeup.clear()
            interval_s = self.heartbeat_interval_s
            if interval_s <= 0:
                await self._heartbeat_wakeup.wait()
                continue
            try:
                await asyncio.wait_for(self._heartbeat_wakeup.wait(), interval_s)
                continue  # the interval changed: start over with the new one
            except TimeoutError:
                pass
            await self._call("Heartbeat", {})

    async def _aligned_loop(self) -> None:
        """Clock-aligned meter values (J01) every AlignedDataCtrlr.Interval from midnight: a
        TransactionEvent (MeterValueClock) for an EVSE in a transaction, else MeterValues."""
        dm = self.device_model
        while True:
            self._aligned_wakeup.clear()
            interval_s = dm.get_int("AlignedDataCtrlr.Interval", 0)
            if interval_s <= 0 or not dm.get_bool("AlignedDataCtrlr.Enabled", True):
                await self._aligned_wakeup.wait()
                continue
            now = utc_now()
            midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
            wait_s = interval_s - ((now - midnight).total_seconds() % interval_s)
            try:
                await asyncio.wait_for(self._aligned_wakeup.wait(), wait_s)
                continue
            except TimeoutError:
                pass
            measurands = tuple(dm.get_list("AlignedDataCtrlr.Measurands"))
            if not measurands:
                continue
            for connector in self.connectors.values():
                session = connector.session
                control = self._controls.get(connector.connector_id)
                if session is not None and session.transaction_id is not None and control is not None:
                    sample = self._sample(connector, "Sample.Clock", measurands)
                    await self._transaction_event(
                        connector, session, control, "Updated", "MeterValueClock", meter_values=[sample]
                    )
                else:
                    await self._send_meter_values(connector, "Sample.Clock", measurands)

    def _variable_changed(self, variable: Variable, value: str) -> None:
        component, name = variable.component.name, variable.name
        if component == "OCPPCommCtrlr" and name == "HeartbeatInterval":
            self._set_heartbeat_interval(int(value))
        elif component == "AlignedDataCtrlr":
            self._aligned_wakeup.set()
        elif component == "SecurityCtrlr" and name == "BasicAuthPassword":
            self._credentials_changed = True
            self._security_event("ReconfigurationOfSecurityParameters", "BasicAuthPassword", send=True)

    # --- meter values and transaction events --------------------------------------------------

    def _sample(self, connector: Connector, context: str, measurands: tuple[str, ...]) -> MeterSample:
        if connector.session is not None:
            self._advance(connector)
        sample = MeterSample(utc_now(), context, measurands, connector.readings(self.rng))
        if context == "Sample.Periodic":
            connector.last_sample_register_wh = connector.meter_register_wh
        return sample

    async def _send_meter_values(
        self, connector: Connector, context: str, measurands: tuple[str, ...]
    ) -> None:
        sample = self._sample(connector, context, measurands)
        values = meter_value_2x(sample)
        if values["sampledValue"]:
            await self._send_queued("MeterValues", {"evseId": connector.connector_id, "meterValue": [values]})

    async def _transaction_event(
        self,
        connector: Connector,
        session: Session,
        control: _SessionControl,
        event_type: str,
        trigger: str,
        *,
        meter_values: list[MeterSample] | None = None,
        with_id_token: bool = False,
        stopped_reason: str | None = None,
        on_result: Callable[[Payload], None] | None = None,
        state: str | None = None,
    ) -> None:
        """Build and queue one TransactionEvent; seqNo counts per transaction (E01.FR.?)."""
        info: Payload = {"transactionId": session.transaction_id}
        new_state = state if state is not None else charging_state(session)
        if new_state != control.charging_state or event_type != "Updated":
            info["chargingState"] = new_state
            control.charging_state = new_state
        if stopped_reason is not None:
            info["stoppedReason"] = stopped_reason
        if event_type == "Started" and control.remote_start_id is not None:
            info["remoteStartId"] = control.remote_start_id
        payload: Payload = {
            "eventType": event_type,
            "timestamp": iso(utc_now()),
            "triggerReason": trigger,
            "seqNo": control.seq_no,
            "transactionInfo": info,
            "evse": {"id": connector.connector_id, "connectorId": CONNECTOR_ID},
        }
        control.seq_no += 1
        if not self.connected:
            payload["offline"] = True  # E04.FR.?: the event happened while offline.
        if event_type == "Started":
            payload["numberOfPhasesUsed"] = session.ev.phases
            if session.reservation_id is not None:
                payload["reservationId"] = session.reservation_id
        if with_id_token:
            payload["idToken"] = id_token(session.id_tag, control.id_token_type)
        values = [meter_value_2x(s) for s in meter_values or [] if s.measurands]
        values = [v for v in values if v["sampledValue"]]
        if values:
            payload["meterValue"] = values
        await self._send_queued("TransactionEvent", payload, on_result)

    async def _update_charging_state(self, connector: Connector, session: Session) -> None:
        control = self._controls.get(connector.connector_id)
        if control is None or session.transaction_id is None:
            return
        if charging_state(session) != control.charging_state:
            await self._transaction_event(connector, session, control, "Updated", "ChargingStateChanged")

    # --- connectors and sessions --------------------------------------------------------------

    def _connector(self, evse_id: int) -> Connector:
        try:
            return self.connectors[evse_id]
        except KeyError:
            raise SessionError(f"no EVSE {evse_id}") from None

    def _connector_free(self, connector: Connector, token: str) -> bool:
        if connector.busy or not (connector.operative and self.station_operative):
            return False
        if connector.status not in (ConnectorStatus.AVAILABLE, ConnectorStatus.RESERVED):
            return False
        if self._reset_when_idle or self._winding_down:
            return False
        return connector.reservation is None or connector.reservation.admits(token)

    def _claim(
        self,
        connector: Connector,
        token: str,
        ev: ElectricVehicle | None,
        max_duration_s: float | None,
        stop_when_full: bool,
        *,
        remote: bool,
    ) -> Session:
        """Take the EVSE for a new session at once, so nothing else can start there."""
        now = time.monotonic()
        session = Session(
            connector_id=connector.connector_id,
            id_tag=token,
            ev=ev or random_ev(self.rng),
            started_at=utc_now(),
            started_monotonic=now,
            meter_start_wh=round(connector.meter_register_wh),
            max_duration_s=max_duration_s,
            stop_when_full=stop_when_full,
            remote=remote,
            last_advance_monotonic=now,
        )
        connector.session = session
        self._controls[connector.connector_id] = _SessionControl(
            asyncio.Event(), asyncio.Event(), id_token_type=self.id_token_type
        )
        return session

    def _release(self, connector: Connector, session: Session) -> None:
        if connector.session is session:
            connector.session = None
        control = self._controls.pop(connector.connector_id, None)
        if control is not None:
            control.finished.set()
        if self._reset_when_idle and not self._controls:
            self._reset_when_idle = False
            self._spawn(self._reboot("RemoteReset"))

    async def _start_session(self, connector: Connector, session: Session, profile: Payload | None) -> str:
        started = False
        control = self._controls[connector.connector_id]
        try:
            # The EV is plugged in: the connector is Occupied.
            await self._set_status(connector, ConnectorStatus.PREPARING)
            dm = self.device_model
            authorize_first = not session.remote or dm.get_bool("AuthCtrlr.AuthorizeRemoteStart", False)
            entry = await self._authorize(session.id_tag, control.id_token_type) if authorize_first else None
            if authorize_first and (entry is None or entry.status is not AuthStatus.ACCEPTED):
                self.stats.auth_rejected += 1
                raise SessionError(
                    f"idToken {session.id_tag} refused: {entry.status if entry else 'no answer'}"
                )
            reservation = connector.reservation
            parent = entry.parent_id_tag if entry is not None else None
            if reservation is not None and not reservation.admits(session.id_tag, parent):
                raise SessionError(f"EVSE {connector.connector_id} is reserved")
            now = time.monotonic()
            session.started_at = utc_now()
            session.started_monotonic = session.last_advance_monotonic = now
            session.meter_start_wh = round(connector.meter_register_wh)
            session.reservation_id = reservation.reservation_id if reservation else None
            session.transaction_id = str(uuid.uuid4())
            started = True
            self.stats.active_sessions += 1
            if reservation is not None:
                # H01.FR.?: a transaction for the reserved token ends the reservation.
                self._drop_reservation(reservation)
            if profile is not None:
                # F01.FR.?: the TxProfile of a RequestStartTransaction applies to this transaction.
                with contextlib.suppress(KeyError, ValueError, TypeError, ProfileRejected):
                    installed = self.profiles.install(
                        profile_from_v201(profile, connector.connector_id, utc_now()),
                        TransactionContext(session.transaction_id, session.started_at),
                    )
                    self._profile_data[installed.profile_id] = dict(profile)
            session.offer(self._offer_for(connector))
            await self._set_status(connector, self._charging_status(session))
            begin = self._sample(
                connector, "Transaction.Begin", tuple(dm.get_list("SampledDataCtrlr.TxStartedMeasurands"))
            )
            ended_measurands = tuple(dm.get_list("SampledDataCtrlr.TxEndedMeasurands"))
            if ended_measurands and dm.get_int("SampledDataCtrlr.TxEndedInterval", 0) > 0:
                control.ended_samples.append(
                    MeterSample(begin.timestamp, begin.context, ended_measurands, begin.readings)
                )
            transaction_id = session.transaction_id

            def answered(result: Payload) -> None:
                self._started_answered(connector, session, result)

            await self._transaction_event(
                connector,
                session,
                control,
                "Started",
                "RemoteStart" if session.remote else "Authorized",
                meter_values=[begin],
                with_id_token=True,
                on_result=answered,
            )
            self._session_tasks[connector.connector_id] = asyncio.create_task(
                self._session_loop(connector, session),
                name=f"{self.station_id}-session-{connector.connector_id}",
            )
            return transaction_id
        except BaseException:
            if not started:
                self._release(connector, session)
                if not self._closing:
                    with contextlib.suppress(Exception):
                        await self._set_status(connector, self._idle_status(connector))
            raise

    def _started_answered(self, connector: Connector, session: Session, result: Payload) -> None:
        """E01/C: the idTokenInfo of the Started event; a token no longer accepted stops the
        transaction (TxCtrlr.StopTxOnInvalidId) or at least the energy."""
        info = result.get("idTokenInfo")
        if not isinstance(info, Mapping):
            return
        self._remember_authorization(session.id_tag, info)
        if str(info.get("status")) == "Accepted" or connector.session is not session:
            return
        session.deauthorized = True
        control = self._controls.get(connector.connector_id)
        if control is None:
            return
        if self.device_model.get_bool("TxCtrlr.StopTxOnInvalidId", True):
            control.reason = StopReason.DE_AUTHORIZED
            control.stop.set()
        else:
            self._advance(connector)
            session.offer(0.0)

    async def _session_loop(self, connector: Connector, session: Session) -> None:
        control = self._controls[connector.connector_id]
        dm = self.device_model
        planned_end = (
            session.started_monotonic + self.planner.wall(session.max_duration_s)
            if session.max_duration_s is not None
            else None
        )
        dwell_end: float | None = None
        last_sample = last_ended_sample = time.monotonic()
        while not control.stop.is_set():
            interval_s = dm.get_int("SampledDataCtrlr.TxUpdatedInterval", 10)
            ended_interval_s = dm.get_int("SampledDataCtrlr.TxEndedInterval", 0)
            # With sampling off (0) the EV still charges; it is looked at every 10 s.
            next_sample = last_sample + (interval_s if interval_s > 0 else 10.0)
            next_ended = last_ended_sample + ended_interval_s if ended_interval_s > 0 else None
            wake = min(t for t in (next_sample, next_ended, planned_end, dwell_end) if t is not None)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(control.stop.wait(), max(0.0, wake - time.monotonic()))
            if control.stop.is_set():
                break
            now = time.monotonic()
            self._advance(connector)
            if planned_end is not None and now >= planned_end:
                control.reason = StopReason.LOCAL
                break
            if session.ev.is_full and dwell_end is None and session.stop_when_full:
                dwell_end = now + self.planner.wall(self.planner.dwell_after_full_s())
            if dwell_end is not None and now >= dwell_end:
                control.reason = StopReason.LOCAL
                break
            if not session.deauthorized:
                session.offer(self._offer_for(connector))
            await self._set_status(connector, self._charging_status(session))
            await self._update_charging_state(connector, session)
            if next_ended is not None and now >= next_ended:
                last_ended_sample = now
                control.ended_samples.append(
                    self._sample(
                        connector, "Sample.Periodic", tuple(dm.get_list("SampledDataCtrlr.TxEndedMeasurands"))
                    )
                )
            if now >= next_sample:
                last_sample = now
                if interval_s > 0:
                    sample = self._sample(
                        connector,
                        "Sample.Periodic",
                        tuple(dm.get_list("SampledDataCtrlr.TxUpdatedMeasurands")),
                    )
                    await self._transaction_event(
                        connector, session, control, "Updated", "MeterValuePeriodic", meter_values=[sample]
                    )
        await self._finish_session(connector, session, control)

    async def _finish_session(self, connector: Connector, session: Session, control: _SessionControl) -> None:
        reason = control.reason
        dm = self.device_model
        try:
            self._advance(connector)
            session.offer(0.0)
            end = self._sample(
                connector, "Transaction.End", tuple(dm.get_list("SampledDataCtrlr.TxEndedMeasurands"))
            )
            trigger, stopped = STOP_REASONS_2X[reason]
            unplugged = reason in (StopReason.EV_DISCONNECTED,)
            await self._transaction_event(
                connector,
                session,
                control,
                "Ended",
                trigger,
                meter_values=[*control.ended_samples, end],
                with_id_token=reason is StopReason.LOCAL,
                stopped_reason=stopped,
                state="Idle" if unplugged else "EVConnected",
            )
        finally:
            self.stats.active_sessions -= 1
            self.stats.sessions_completed += 1
            self.profiles.end_transaction(connector.connector_id)
            self._forget_profiles()
            for message_id, message in list(self.display_messages.items()):
                if message.transaction_id is not None and message.transaction_id == session.transaction_id:
                    del self.display_messages[message_id]  # O02: its messages go with the transaction
            self._session_tasks.pop(connector.connector_id, None)
            if connector.session is session:
                connector.session = None
        # The session holds the EVSE (its control) until the cable is out.
        try:
            self._refresh_offers()
            if reason in (StopReason.SOFT_RESET, StopReason.HARD_RESET, StopReason.REBOOT):
                return  # the reboot announces the connectors afresh
            if reason is not StopReason.EV_DISCONNECTED:
                await self._set_status(connector, ConnectorStatus.FINISHING)
                await asyncio.sleep(self.timings.unplug_s)
            if connector.scheduled_operative is not None:
                connector.operative = connector.scheduled_operative
                connector.scheduled_operative = None
            await self._set_status(connector, self._idle_status(connector))
        finally:
            self._release(connector, session)

    async def _auto_sessions(self, evse_id: int, max_sessions: int | None) -> None:
        connector = self.connectors[evse_id]
        done = 0
        # The first EV arrives within five simulated minutes (at most 5 s), so that a run shows
        # sessions at once, spread out so that a thousand stations do not authorize together.
        await asyncio.sleep(self.rng.uniform(0.0, min(5.0, self.planner.wall(300.0))))
        while max_sessions is None or done < max_sessions:
            await self._registered.wait()
            if not self._connector_free(connector, self.id_tag):
                await asyncio.sleep(1.0)
                continue
            session = self._claim(
                connector, self.id_tag, None, self.planner.session_duration_s(), True, remote=False
            )
            done += 1
            try:
                await self._start_session(connector, session, profile=None)
            except SessionError as exc:
                LOGGER.info("%s: session on EVSE %d: %s", self.station_id, evse_id, exc)
            else:
                await self.wait_session_end(evse_id)
            if max_sessions is None or done < max_sessions:
                await asyncio.sleep(self.planner.wall(self.planner.idle_pause_s()))

    def _idle_status(self, connector: Connector) -> ConnectorStatus:
        if connector.connector_id in self.faulted:
            return ConnectorStatus.FAULTED
        return connector.idle_status(self.station_operative)

    @staticmethod
    def _charging_status(session: Session) -> ConnectorStatus:
        if session.offered_power_w <= 0:
            return ConnectorStatus.SUSPENDED_EVSE
        if session.power_w <= 0:
            return ConnectorStatus.SUSPENDED_EV
        return ConnectorStatus.CHARGING

    def _advance(self, connector: Connector) -> None:
        session = connector.session
        if session is None or session.transaction_id is None:
            return
        energy_wh = session.advance(time.monotonic(), self.time_scale)
        connector.meter_register_wh += energy_wh
        self.stats.energy_wh += energy_wh

    def _transaction_context(self, connector: Connector) -> TransactionContext | None:
        session = connector.session
        if session is None or session.transaction_id is None:
            return None
        return TransactionContext(session.transaction_id, session.started_at)

    def _charging_connectors(self) -> int:
        return sum(1 for c in self.connectors.values() if c.in_transaction)

    def _profile_limit(self, connector: Connector) -> Limit | None:
        session = connector.session
        return self.profiles.connector_limit(
            connector.connector_id,
            utc_now(),
            self._transaction_context(connector),
            unit=RateUnit.WATT,
            sharing_connectors=max(1, self._charging_connectors()),
            ev_phases=session.ev.phases if session is not None else None,
        )

    def _offer_for(self, connector: Connector) -> float:
        """min(EV-side hardware, the active profiles' lowest limit); 0 when deauthorized."""
        session = connector.session
        if session is None or session.deauthorized:
            return 0.0
        offer_w = connector.hardware_power_w(session.ev.phases)
        limit = self._profile_limit(connector)
        if limit is not None:
            offer_w = min(offer_w, limit.to_watts(session.ev.phases))
        return max(0.0, offer_w)

    def _refresh_offers(self) -> list[Connector]:
        changed = []
        for connector in self.connectors.values():
            session = connector.session
            if session is None or session.transaction_id is None:
                continue
            self._advance(connector)
            session.offer(self._offer_for(connector))
            changed.append(connector)
        return changed

    async def _announce_offers(self) -> None:
        """After a profile change: new statuses and ChargingStateChanged events where needed."""
        for connector in self._refresh_offers():
            session = connector.session
            if session is not None:
                await self._set_status(connector, self._charging_status(session))
                await self._update_charging_state(connector, session)

    def _forget_profiles(self) -> None:
        ids = {p.profile_id for p in self.profiles.profiles}
        for profile_id in list(self._profile_data):
            if profile_id not in ids:
                del self._profile_data[profile_id]

    def _find_transaction(self, transaction_id: str) -> tuple[Connector, Session] | None:
        for connector in self.connectors.values():
            session = connector.session
            if session is not None and session.transaction_id == transaction_id:
                return connector, session
        return None

    # --- authorization ------------------------------------------------------------------------

    async def _authorize(self, token: str, token_type: str) -> AuthEntry | None:
        """Local list, cache and Authorize as C01, C10, C12, C13, C14 arrange them."""
        dm = self.device_model
        if not dm.get_bool("AuthCtrlr.Enabled", True):
            return AuthEntry(AuthStatus.ACCEPTED)
        now = utc_now()
        local = self.local_list.lookup(token) if dm.get_bool("LocalAuthListCtrlr.Enabled", True) else None
        cached = self.auth_cache.get(token) if dm.get_bool("AuthCacheCtrlr.Enabled", True) else None
        known = local or cached
        if not self.connected:
            if known is not None and dm.get_bool("AuthCtrlr.LocalAuthorizeOffline", True):
                return known if known.valid_at(now) else AuthEntry(AuthStatus.INVALID)
            if known is None and dm.get_bool("AuthCtrlr.OfflineTxForUnknownIdEnabled", False):
                return AuthEntry(AuthStatus.ACCEPTED)
            return None
        if known is not None and known.valid_at(now) and dm.get_bool("AuthCtrlr.LocalPreAuthorize", False):
            return known
        if dm.get_bool("AuthCtrlr.DisableRemoteAuthorization", False):
            return known
        result = await self._call("Authorize", {"idToken": id_token(token, token_type)})
        if result is None:
            return None
        return self._remember_authorization(token, result["idTokenInfo"])

    def _remember_authorization(self, token: str, info: Mapping[str, Any]) -> AuthEntry:
        entry = auth_entry_2x(info)
        # C10.FR.?: tokens in the Local Authorization List are not cached.
        if (
            self.device_model.get_bool("AuthCacheCtrlr.Enabled", True)
            and self.local_list.lookup(token) is None
        ):
            self.auth_cache[token] = entry
        return entry

    # --- reservations -------------------------------------------------------------------------

    def _drop_reservation(self, reservation: Reservation) -> None:
        self.reservations.pop(reservation.reservation_id, None)
        timer = self._reservation_timers.pop(reservation.reservation_id, None)
        if timer is not None and timer is not asyncio.current_task():
            timer.cancel()
        connector = self.connectors.get(reservation.connector_id)
        if connector is not None and connector.reservation is reservation:
            connector.reservation = None

    async def _expire_reservation(self, reservation: Reservation) -> None:
        delay_s = (reservation.expires_at - utc_now()).total_seconds()
        await asyncio.sleep(max(0.0, delay_s))
        if self.reservations.get(reservation.reservation_id) is not reservation:
            return
        self._drop_reservation(reservation)
        # H01.FR.?: an expired reservation is reported, and the EVSE is Available again.
        await self._reservation_update(reservation, "Expired")

    async def _reservation_update(self, reservation: Reservation, status: str) -> None:
        await self._call(
            "ReservationStatusUpdate",
            {"reservationId": reservation.reservation_id, "reservationUpdateStatus": status},
        )
        connector = self.connectors[reservation.connector_id]
        if not connector.busy:
            await self._set_status(connector, self._idle_status(connector))

    # --- reboot -------------------------------------------------------------------------------

    async def _reboot(self, boot_reason: str, security_event: str = "ResetOrReboot") -> None:
        """B11/B12: end every transaction (Ended, ImmediateReset), close the connection, come back
        after ``reboot_s`` and boot again with ``boot_reason``."""
        if self._reconnector is not None and self._reconnector is not asyncio.current_task():
            self._reconnector.cancel()
        for control in list(self._controls.values()):
            control.reason = StopReason.SOFT_RESET
            control.stop.set()
        for control in list(self._controls.values()):
            await control.finished.wait()
        self._stop_background()
        if self.registered:
            self._registered.clear()
            self.stats.booted -= 1
        await self._go_offline()
        await asyncio.sleep(self.timings.reboot_s)
        for connector in self.connectors.values():
            if connector.scheduled_operative is not None:
                connector.operative = connector.scheduled_operative
                connector.scheduled_operative = None
            connector.status = self._idle_status(connector)
        self._boot_reason = boot_reason
        await self._connect_with_retry()
        await self._after_connect()
        self._security_event(security_event, None, send=True)

    async def _reset_evse(self, connector: Connector) -> None:
        """B11/B12 with an evseId: only that EVSE restarts."""
        control = self._controls.get(connector.connector_id)
        if control is not None:
            control.reason = StopReason.SOFT_RESET
            control.stop.set()
            await control.finished.wait()
        await self._set_status(connector, ConnectorStatus.UNAVAILABLE)
        await asyncio.sleep(self.timings.reboot_s)
        await self._set_status(connector, self._idle_status(connector))

    async def _reconnect_with_new_credentials(self) -> None:
        """A01: disconnect, then connect with the new BasicAuthPassword."""
        await self._go_offline()
        await self._connect_with_retry()
        await self._after_connect()

    # --- firmware, logs, publishing -----------------------------------------------------------

    def _firmware_busy(self) -> bool:
        return self._firmware_task is not None and not self._firmware_task.done()

    async def _sleep_until(self, moment: datetime | None) -> None:
        if moment is not None:
            await asyncio.sleep(max(0.0, (moment - utc_now()).total_seconds()))

    async def _wait_for_no_transactions(self) -> None:
        while self._controls:
            await asyncio.gather(*(c.finished.wait() for c in list(self._controls.values())))

    async def _firmware_status(self, status: str, request_id: int) -> None:
        self.firmware_status = status
        await self._call(
            "FirmwareStatusNotification", {"status": status, "requestId": request_id}, before_boot=True
        )

    async def _update_firmware(self, request_id: int, firmware: Mapping[str, Any]) -> None:
        """L01: each new state is reported with the request's requestId; the station reboots to
        install and reports Installed after the boot."""
        location = str(firmware["location"])
        retrieve_at = parse_time(str(firmware["retrieveDateTime"]))
        install_at = parse_time(str(firmware["installDateTime"])) if firmware.get("installDateTime") else None
        if retrieve_at > utc_now():
            await self._firmware_status("DownloadScheduled", request_id)
            await self._sleep_until(retrieve_at)
        await self._firmware_status("Downloading", request_id)
        await asyncio.sleep(self.timings.firmware_step_s)
        if "download-fail" in location:
            await self._firmware_status("DownloadFailed", request_id)
            return
        await self._firmware_status("Downloaded", request_id)
        if firmware.get("signature") is not None:
            if not _valid_signature(str(firmware["signature"])):
                await self._firmware_status("InvalidSignature", request_id)
                self._security_event("InvalidFirmwareSignature", None, send=True)
                return
            await self._firmware_status("SignatureVerified", request_id)
        if install_at is not None and install_at > utc_now():
            await self._firmware_status("InstallScheduled", request_id)
            await self._sleep_until(install_at)
        await self._wait_for_no_transactions()
        await self._firmware_status("Installing", request_id)
        await asyncio.sleep(self.timings.firmware_step_s)
        if "install-fail" in location:
            await self._firmware_status("InstallationFailed", request_id)
            return
        await self._firmware_status("InstallRebooting", request_id)
        self.firmware_version = _firmware_name(location)
        await self._reboot("FirmwareUpdate", "FirmwareUpdated")
        await self._firmware_status("Installed", request_id)

    async def _upload_log(self, location: str, request_id: int) -> None:
        """N01: Uploading, then Uploaded (or UploadFailure), with the requestId."""
        self.log_status = "Uploading"
        await self._call(
            "LogStatusNotification", {"status": "Uploading", "requestId": request_id}, before_boot=True
        )
        await asyncio.sleep(self.timings.upload_step_s)
        final = "UploadFailure" if "upload-fail" in location else "Uploaded"
        self.log_status = final
        await self._call(
            "LogStatusNotification", {"status": final, "requestId": request_id}, before_boot=True
        )
        self.log_status = "Idle"

    async def _publish_status(self, status: str, request_id: int, locations: list[str] | None = None) -> None:
        self.publish_status = status
        payload: Payload = {"status": status, "requestId": request_id}
        if locations:
            payload["location"] = locations
        await self._call("PublishFirmwareStatusNotification", payload, before_boot=True)

    async def _publish_firmware(self, location: str, checksum: str, request_id: int) -> None:
        """L03: download, verify the checksum, publish on the local controller's own URLs."""
        await self._publish_status("Downloading", request_id)
        await asyncio.sleep(self.timings.firmware_step_s)
        if "download-fail" in location:
            await self._publish_status("DownloadFailed", request_id)
            return
        await self._publish_status("Downloaded", request_id)
        if "bad-checksum" in location:
            await self._publish_status("InvalidChecksum", request_id)
            return
        await self._publish_status("ChecksumVerified", request_id)
        name = _firmware_name(location)
        locations = [
            f"http://{self.station_id}.local/firmware/{name}",
            f"ftp://{self.station_id}.local/{name}",
        ]
        self.published = (checksum, locations)
        await self._publish_status("Published", request_id, locations)

    # --- certificates -------------------------------------------------------------------------

    async def _sign_certificate(self, certificate_type: str, *, repeat: bool = True) -> str | None:
        """A02/A03: a new key pair and a CSR (CN = station id, O = SecurityCtrlr.OrganizationName);
        without a CertificateSigned within CertSigningWaitMinimum, ask again, up to
        CertSigningRepeatTimes times."""
        dm = self.device_model
        attempts = 1 + (dm.get_int("SecurityCtrlr.CertSigningRepeatTimes", 3) if repeat else 0)
        status: str | None = None
        for _ in range(attempts):
            organization = dm.get("SecurityCtrlr.OrganizationName") or self.vendor
            request = await asyncio.to_thread(make_signing_request, self.station_id, organization)
            self._pending_keys[certificate_type] = request
            self._certificate_signed.clear()
            result = await self._call(
                "SignCertificate",
                {"csr": request.csr_pem, "certificateType": certificate_type},
                before_boot=True,
            )
            status = None if result is None else str(result["status"])
            if not repeat or status != "Accepted":
                return status
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self._certificate_signed.wait(), dm.get_int("SecurityCtrlr.CertSigningWaitMinimum", 60)
                )
            if certificate_type not in self._pending_keys:
                return status
        return status

    # --- what TriggerMessage asks for ---------------------------------------------------------

    async def _send_triggered(self, message: str, evse: Mapping[str, Any] | None) -> None:
        """F06: send the requested message (after the TriggerMessageResponse)."""
        dm = self.device_model
        evse_ids = [int(evse["id"])] if evse is not None else list(self.connectors)
        if message == "BootNotification":
            self._boot_reason = "Triggered"
            result = await self._call("BootNotification", self._boot_payload(), before_boot=True)
            if result is not None:
                self._boot_answered(str(result["status"]), int(result["interval"]))
        elif message == "Heartbeat":
            await self._call("Heartbeat", {}, before_boot=True)
        elif message == "StatusNotification":
            for evse_id in evse_ids:
                await self._send_status(evse_id, before_boot=True)
        elif message == "MeterValues":
            measurands = tuple(dm.get_list("AlignedDataCtrlr.Measurands"))
            for evse_id in evse_ids:
                await self._send_meter_values(self.connectors[evse_id], "Trigger", measurands)
        elif message == "TransactionEvent":
            measurands = tuple(dm.get_list("SampledDataCtrlr.TxUpdatedMeasurands"))
            for evse_id in evse_ids:
                connector = self.connectors[evse_id]
                session, control = connector.session, self._controls.get(evse_id)
                if session is not None and session.transaction_id is not None and control is not None:
                    sample = self._sample(connector, "Trigger", measurands)
                    await self._transaction_event(
                        connector, session, control, "Updated", "Trigger", meter_values=[sample]
                    )
        elif message == "FirmwareStatusNotification":
            busy = self._firmware_busy()
            status = self.firmware_status if busy else "Idle"
            payload: Payload = {"status": status}
            if busy and self.firmware_request_id is not None:
                payload["requestId"] = self.firmware_request_id
            await self._call("FirmwareStatusNotification", payload, before_boot=True)
        elif message == "LogStatusNotification":
            uploading = self.log_status == "Uploading"
            payload = {"status": "Uploading" if uploading else "Idle"}
            if uploading and self.log_request_id is not None:
                payload["requestId"] = self.log_request_id
            await self._call("LogStatusNotification", payload, before_boot=True)
        elif message == "PublishFirmwareStatusNotification":
            payload = {"status": self.publish_status}
            if self.publish_request_id is not None and self.publish_status != "Idle":
                payload["requestId"] = self.publish_request_id
            if self.publish_status == "Published" and self.published is not None:
                payload["location"] = self.published[1]
            await self._call("PublishFirmwareStatusNotification", payload, before_boot=True)
        elif message == "SignChargingStationCertificate":
            self._start_csr("ChargingStationCertificate")
        elif message == "SignV2GCertificate":
            self._start_csr("V2GCertificate")

    def _start_csr(self, certificate_type: str) -> None:
        previous = self._csr_tasks.get(certificate_type)
        if previous is not None and not previous.done():
            previous.cancel()

        async def sign() -> None:
            await self._sign_certificate(certificate_type)

        self._csr_tasks[certificate_type] = self._spawn(sign())

    # --- reports ------------------------------------------------------------------------------

    async def _notify_report(self, request_id: int, variables: list[Variable]) -> None:
        """B07/B08: NotifyReport messages, split with tbc and seqNo."""
        generated_at = iso(utc_now())
        parts = chunks([v.report_data() for v in variables], REPORT_ITEMS_PER_MESSAGE)
        for seq_no, part in enumerate(parts):
            payload: Payload = {"requestId": request_id, "generatedAt": generated_at, "seqNo": seq_no}
            if part:
                payload["reportData"] = part
            if seq_no < len(parts) - 1:
                payload["tbc"] = True
            await self._call("NotifyReport", payload, before_boot=True)

    async def _notify_monitoring_report(
        self, request_id: int, groups: list[tuple[Variable, list[Monitor]]]
    ) -> None:
        with_kind = self.version == "2.1"
        entries = [
            {
                "component": variable.component.to_ocpp(),
                "variable": variable.variable_ocpp(),
                "variableMonitoring": [m.to_ocpp(with_kind) for m in monitors],
            }
            for variable, monitors in groups
        ]
        generated_at = iso(utc_now())
        parts = chunks(entries, REPORT_ITEMS_PER_MESSAGE)
        for seq_no, part in enumerate(parts):
            payload: Payload = {"requestId": request_id, "generatedAt": generated_at, "seqNo": seq_no}
            if part:
                payload["monitor"] = part
            if seq_no < len(parts) - 1:
                payload["tbc"] = True
            await self._call("NotifyMonitoringReport", payload, before_boot=True)

    def _profile_report(self, profile: ChargingProfile) -> Payload:
        data = dict(self._profile_data.get(profile.profile_id) or {})
        if profile.purpose is ProfilePurpose.TX and profile.transaction_id and not data.get("transactionId"):
            data["transactionId"] = profile.transaction_id
        return data

    async def _report_charging_profiles(self, request_id: int, profiles: list[ChargingProfile]) -> None:
        """K09: one ReportChargingProfiles per EVSE (and chunk), tbc on all but the last."""
        messages: list[Payload] = []
        for evse_id in sorted({p.connector_id for p in profiles}):
            mine = [self._profile_report(p) for p in profiles if p.connector_id == evse_id]
            for part in chunks(mine, REPORT_ITEMS_PER_MESSAGE):
                messages.append(
                    {
                        "requestId": request_id,
                        "chargingLimitSource": "CSO",
                        "evseId": evse_id,
                        "chargingProfile": part,
                    }
                )
        for index, payload in enumerate(messages):
            if index < len(messages) - 1:
                payload["tbc"] = True
            await self._call("ReportChargingProfiles", payload, before_boot=True)

    async def _notify_display_messages(self, request_id: int, messages: list[DisplayMessage]) -> None:
        parts = chunks([m.info for m in messages], REPORT_ITEMS_PER_MESSAGE)
        for index, part in enumerate(parts):
            payload: Payload = {"requestId": request_id, "messageInfo": part}
            if index < len(parts) - 1:
                payload["tbc"] = True
            await self._call("NotifyDisplayMessages", payload, before_boot=True)

    async def _notify_customer_information(self, request_id: int, text: str) -> None:
        generated_at = iso(utc_now())
        parts = [text[i : i + CUSTOMER_DATA_SIZE] for i in range(0, len(text), CUSTOMER_DATA_SIZE)] or [""]
        for seq_no, part in enumerate(parts):
            payload: Payload = {
                "data": part,
                "seqNo": seq_no,
                "generatedAt": generated_at,
                "requestId": request_id,
            }
            if seq_no < len(parts) - 1:
                payload["tbc"] = True
            await self._call("NotifyCustomerInformation", payload, before_boot=True)

    # --- CSMS-initiated messages: provisioning (B) --------------------------------------------

    @_answers("GetBaseReport")
    def _on_get_base_report(self, payload: Payload, unique_id: str) -> Payload:
        variables = self.device_model.base_report(ReportBase(payload["reportBase"]))
        request_id = int(payload["requestId"])
        self._after_reply(unique_id, lambda: self._notify_report(request_id, variables))
        return _answer("Accepted")

    def _check_size(self, action: str, payload: Payload) -> None:
        """B06/B08: a request beyond DeviceDataCtrlr.BytesPerMessage[action] is refused."""
        limit = self.device_model.get_int(f"DeviceDataCtrlr.BytesPerMessage[{action}]", 0)
        if limit and len(json.dumps(payload, separators=(",", ":"))) > limit:
            raise FormatViolationError(details={"cause": f"{action} is larger than {limit} bytes"})

    @_answers("GetReport")
    def _on_get_report(self, payload: Payload, unique_id: str) -> Payload:
        self._check_size("GetReport", payload)
        entries = payload.get("componentVariable") or []
        if len(entries) > self.device_model.get_int("DeviceDataCtrlr.ItemsPerMessage[GetReport]", 32):
            raise OccurrenceConstraintViolationError(details={"cause": "too many componentVariable entries"})
        variables = self.device_model.select(entries, payload.get("componentCriteria"))
        if not variables:
            return _answer("EmptyResultSet")
        request_id = int(payload["requestId"])
        self._after_reply(unique_id, lambda: self._notify_report(request_id, variables))
        return _answer("Accepted")

    @_answers("GetVariables")
    def _on_get_variables(self, payload: Payload, unique_id: str) -> Payload:
        self._check_size("GetVariables", payload)
        entries = payload["getVariableData"]
        if len(entries) > self.device_model.get_int("DeviceDataCtrlr.ItemsPerMessage[GetVariables]", 32):
            raise OccurrenceConstraintViolationError(details={"cause": "too many getVariableData entries"})
        results = []
        for entry in entries:
            attribute_type = AttributeType(entry.get("attributeType", "Actual"))
            variable = entry["variable"]
            found = self.device_model.get_variable(
                ComponentKey.from_ocpp(entry["component"]),
                str(variable["name"]),
                variable.get("instance"),
                attribute_type,
            )
            result: Payload = {
                "attributeStatus": str(found.status),
                "attributeType": str(attribute_type),
                "component": entry["component"],
                "variable": variable,
            }
            if found.value is not None:
                result["attributeValue"] = found.value
            if found.reason is not None:
                result["attributeStatusInfo"] = status_info(found.reason)
            results.append(result)
        return {"getVariableResult": results}

    @_answers("SetVariables")
    def _on_set_variables(self, payload: Payload, unique_id: str) -> Payload:
        self._check_size("SetVariables", payload)
        entries = payload["setVariableData"]
        if len(entries) > self.device_model.get_int("DeviceDataCtrlr.ItemsPerMessage[SetVariables]", 32):
            raise OccurrenceConstraintViolationError(details={"cause": "too many setVariableData entries"})
        self._credentials_changed = False
        results = []
        for entry in entries:
            attribute_type = AttributeType(entry.get("attributeType", "Actual"))
            variable = entry["variable"]
            outcome = self.device_model.set_variable(
                ComponentKey.from_ocpp(entry["component"]),
                str(variable["name"]),
                variable.get("instance"),
                attribute_type,
                str(entry["attributeValue"]),
            )
            result: Payload = {
                "attributeStatus": str(outcome.status),
                "attributeType": str(attribute_type),
                "component": entry["component"],
                "variable": variable,
            }
            if outcome.reason is not None:
                result["attributeStatusInfo"] = status_info(outcome.reason)
            results.append(result)
        if self._credentials_changed:
            # A01.FR.?: with a new password the station reconnects once it has answered.
            self._credentials_changed = False
            self._after_reply(unique_id, self._reconnect_with_new_credentials)
        return {"setVariableResult": results}

    @_answers("Reset")
    def _on_reset(self, payload: Payload, unique_id: str) -> Payload:
        reset_type = str(payload["type"])
        evse_id = payload.get("evseId")
        if reset_type not in ("Immediate", "OnIdle"):
            return _answer("Rejected", "UnsupportedRequest")  # 2.1 ImmediateAndResume
        if evse_id is not None and evse_id != 0:
            connector = self.connectors.get(int(evse_id))
            if connector is None:
                return _answer("Rejected", "UnknownEvse")
            if reset_type == "OnIdle" and connector.busy:

                async def when_idle() -> None:
                    await self.wait_session_end(connector.connector_id)
                    await self._reset_evse(connector)

                self._after_reply(unique_id, when_idle)
                return _answer("Scheduled")
            self._after_reply(unique_id, lambda: self._reset_evse(connector))
            return _answer("Accepted")
        if reset_type == "OnIdle" and self._controls:
            # B12.FR.?: wait until no EVSE is in use, and start no new session meanwhile.
            self._reset_when_idle = True
            return _answer("Scheduled")
        self._after_reply(unique_id, lambda: self._reboot("RemoteReset"))
        return _answer("Accepted")

    @_answers("SetNetworkProfile")
    def _on_set_network_profile(self, payload: Payload, unique_id: str) -> Payload:
        slot = int(payload["configurationSlot"])
        data = payload["connectionData"]
        slots = self.device_model.lookup("OCPPCommCtrlr.NetworkConfigurationPriority").values_list or ()
        if str(slot) not in slots:
            return _answer("Rejected", "InvalidValue")
        current = self.device_model.get_int("SecurityCtrlr.SecurityProfile", 0)
        if int(data["securityProfile"]) < current:
            return _answer("Rejected", "InvalidValue")  # A09/B09: never downwards.
        versions = {"OCPP20", "OCPP201", "OCPP21"} if self.version == "2.1" else {"OCPP20"}
        if data.get("ocppVersion") is not None and data["ocppVersion"] not in versions:
            return _answer("Rejected", "UnsupportedParam")
        self.network_profiles[slot] = dict(data)
        return _answer("Accepted")

    # --- authorization (C, D) -----------------------------------------------------------------

    @_answers("ClearCache")
    def _on_clear_cache(self, payload: Payload, unique_id: str) -> Payload:
        if not self.device_model.get_bool("AuthCacheCtrlr.Enabled", True):
            return _answer("Rejected", "NotEnabled")
        self.auth_cache.clear()
        return _answer("Accepted")

    @_answers("SendLocalList")
    def _on_send_local_list(self, payload: Payload, unique_id: str) -> Payload:
        entries = payload.get("localAuthorizationList") or []
        if len(entries) > self.device_model.get_int("LocalAuthListCtrlr.ItemsPerMessage", 250):
            return _answer("Failed", "TooManyElements")
        changes = [
            (str(e["idToken"]["idToken"]), auth_entry_2x(e["idTokenInfo"]) if e.get("idTokenInfo") else None)
            for e in entries
        ]
        status = self.local_list.update(
            int(payload["versionNumber"]), payload["updateType"] == "Full", changes
        )
        if status == "Accepted":
            for token, _entry in changes:
                self.auth_cache.pop(token, None)
        return _answer(status)

    @_answers("GetLocalListVersion")
    def _on_get_local_list_version(self, payload: Payload, unique_id: str) -> Payload:
        return {"versionNumber": self.local_list.version}

    # --- transactions (E, F) ------------------------------------------------------------------

    @_answers("RequestStartTransaction")
    def _on_request_start_transaction(self, payload: Payload, unique_id: str) -> Payload:
        if not self.registered:
            return _answer("Rejected", "CSNotAccepted")
        token = payload["idToken"]
        profile = payload.get("chargingProfile")
        if profile is not None and profile.get("chargingProfilePurpose") != "TxProfile":
            return _answer("Rejected", "InvalidProfile")  # F01.FR.?/K05: only a TxProfile
        evse_id = payload.get("evseId")
        tag = str(token["idToken"])
        if evse_id is None:
            candidates = [c for c in self.connectors.values() if self._connector_free(c, tag)]
        elif evse_id in self.connectors:
            connector = self.connectors[evse_id]
            candidates = [connector] if self._connector_free(connector, tag) else []
        else:
            return _answer("Rejected", "UnknownEvse")
        if not candidates:
            return _answer("Rejected", "TxInProgress")
        connector = candidates[0]
        duration = self.planner.session_duration_s() if self._auto_mode else None
        session = self._claim(connector, tag, None, duration, self._auto_mode, remote=True)
        control = self._controls[connector.connector_id]
        control.id_token_type = str(token["type"])
        control.remote_start_id = int(payload["remoteStartId"])

        async def start() -> None:
            with contextlib.suppress(SessionError):
                await self._start_session(connector, session, profile)

        self._after_reply(unique_id, start)
        return _answer("Accepted")

    @_answers("RequestStopTransaction")
    def _on_request_stop_transaction(self, payload: Payload, unique_id: str) -> Payload:
        found = self._find_transaction(str(payload["transactionId"]))
        if found is not None:
            control = self._controls.get(found[0].connector_id)
            if control is not None and not control.stop.is_set():
                control.reason = StopReason.REMOTE
                control.stop.set()
                return _answer("Accepted")
        return _answer("Rejected", "TxNotFound")

    @_answers("GetTransactionStatus")
    def _on_get_transaction_status(self, payload: Payload, unique_id: str) -> Payload:
        """E14: whether TransactionEvents are still queued, and whether the transaction goes on."""
        wanted = payload.get("transactionId")
        queued = [
            item
            for item in self._queue
            if item.action == "TransactionEvent"
            and (wanted is None or item.payload["transactionInfo"]["transactionId"] == wanted)
        ]
        answer: Payload = {"messagesInQueue": bool(queued)}
        if wanted is not None:
            answer["ongoingIndicator"] = self._find_transaction(str(wanted)) is not None
        return answer

    @_answers("CostUpdated")
    def _on_cost_updated(self, payload: Payload, unique_id: str) -> Payload:
        self.costs[str(payload["transactionId"])] = float(payload["totalCost"])
        return {}

    @_answers("UnlockConnector")
    def _on_unlock_connector(self, payload: Payload, unique_id: str) -> Payload:
        connector = self.connectors.get(int(payload["evseId"]))
        if connector is None or int(payload["connectorId"]) != CONNECTOR_ID:
            return _answer("UnknownConnector")
        if connector.in_transaction:
            # F05.FR.02: an authorized transaction keeps its cable locked.
            return _answer("OngoingAuthorizedTransaction")
        return _answer("Unlocked")

    @_answers("TriggerMessage")
    def _on_trigger_message(self, payload: Payload, unique_id: str) -> Payload:
        message = str(payload["requestedMessage"])
        evse = payload.get("evse")
        if evse is not None and (
            int(evse["id"]) not in self.connectors or evse.get("connectorId", CONNECTOR_ID) != CONNECTOR_ID
        ):
            return _answer("Rejected", "UnknownEvse")
        supported = {
            "BootNotification",
            "Heartbeat",
            "StatusNotification",
            "MeterValues",
            "TransactionEvent",
            "FirmwareStatusNotification",
            "LogStatusNotification",
            "PublishFirmwareStatusNotification",
            "SignChargingStationCertificate",
            "SignV2GCertificate",
        }
        if message not in supported:
            return _answer("NotImplemented")
        if message == "BootNotification" and self.registered:
            return _answer("Rejected")  # F06.FR.17: already accepted
        if message == "TransactionEvent":
            ids = [int(evse["id"])] if evse is not None else list(self.connectors)
            if not any(self.connectors[e].in_transaction for e in ids):
                return _answer("Rejected", "TxNotFound")
        self._after_reply(unique_id, lambda: self._send_triggered(message, evse))
        return _answer("Accepted")

    @_answers("DataTransfer")
    def _on_data_transfer(self, payload: Payload, unique_id: str) -> Payload:
        if payload["vendorId"] != DATA_TRANSFER_VENDOR_ID:
            return _answer("UnknownVendorId")
        if payload.get("messageId") not in (None, "Echo"):
            return _answer("UnknownMessageId")
        answer = _answer("Accepted")
        if "data" in payload:
            answer["data"] = payload["data"]
        return answer

    # --- availability (G) ---------------------------------------------------------------------

    @_answers("ChangeAvailability")
    def _on_change_availability(self, payload: Payload, unique_id: str) -> Payload:
        operative = payload["operationalStatus"] == "Operative"
        evse = payload.get("evse")
        if evse is not None and int(evse["id"]) != 0:
            connector = self.connectors.get(int(evse["id"]))
            if connector is None or evse.get("connectorId", CONNECTOR_ID) != CONNECTOR_ID:
                return _answer("Rejected", "UnknownEvse")
            targets = [connector]
            whole_station = False
        else:
            targets = list(self.connectors.values())
            whole_station = True
        scheduled = False
        removed: list[Reservation] = []
        for connector in targets:
            if connector.busy:
                connector.scheduled_operative = operative  # G03.FR.?: after the transaction
                scheduled = True
            else:
                connector.operative = operative
                connector.scheduled_operative = None
                if not operative and connector.reservation is not None:
                    removed.append(connector.reservation)
                    self._drop_reservation(connector.reservation)
        if whole_station:
            self.station_operative = operative

        async def announce() -> None:
            for reservation in removed:
                await self._call(
                    "ReservationStatusUpdate",
                    {"reservationId": reservation.reservation_id, "reservationUpdateStatus": "Removed"},
                )
            for connector in targets:
                if not connector.busy:
                    await self._set_status(connector, self._idle_status(connector))

        self._after_reply(unique_id, announce)
        return _answer("Scheduled" if scheduled else "Accepted")

    # --- reservations (H) ---------------------------------------------------------------------

    @_answers("ReserveNow")
    def _on_reserve_now(self, payload: Payload, unique_id: str) -> Payload:
        if not self.device_model.get_bool("ReservationCtrlr.Enabled", True):
            return _answer("Rejected", "NotEnabled")
        reservation_id = int(payload["id"])
        try:
            expires_at = parse_time(str(payload["expiryDateTime"]))
        except ValueError:
            return _answer("Rejected", "InvalidValue")
        if expires_at <= utc_now():
            return _answer("Rejected", "InvalidValue")
        previous = self.reservations.get(reservation_id)
        evse_id = payload.get("evseId")
        if evse_id is not None and evse_id != 0:
            connector = self.connectors.get(int(evse_id))
            if connector is None:
                return _answer("Rejected", "UnknownEvse")
            candidates = [connector]
        else:
            # H01: NonEvseSpecific, one free EVSE is kept for the token.
            candidates = list(self.connectors.values())
        if all(not (c.operative and self.station_operative) for c in candidates):
            return _answer("Unavailable")
        if all(c.status is ConnectorStatus.FAULTED for c in candidates):
            return _answer("Faulted")
        free = [
            c
            for c in candidates
            if c.operative
            and not c.busy
            and c.status in (ConnectorStatus.AVAILABLE, ConnectorStatus.RESERVED)
            and (c.reservation is None or c.reservation is previous)
        ]
        if not free:
            return _answer("Occupied")
        connector = free[0]
        if previous is not None:
            self._drop_reservation(previous)  # H01.FR.?: the same id replaces the reservation
            old = self.connectors[previous.connector_id]
            if old is not connector and not old.busy:
                self._spawn(self._set_status(old, self._idle_status(old)))
        group = payload.get("groupIdToken")
        reservation = Reservation(
            reservation_id,
            connector.connector_id,
            str(payload["idToken"]["idToken"]),
            expires_at,
            str(group["idToken"]) if group else None,
        )
        self.reservations[reservation_id] = reservation
        connector.reservation = reservation
        self._reservation_timers[reservation_id] = self._spawn(self._expire_reservation(reservation))
        self._after_reply(unique_id, lambda: self._set_status(connector, ConnectorStatus.RESERVED))
        return _answer("Accepted")

    @_answers("CancelReservation")
    def _on_cancel_reservation(self, payload: Payload, unique_id: str) -> Payload:
        reservation = self.reservations.get(int(payload["reservationId"]))
        if reservation is None:
            return _answer("Rejected", "NotFound")
        self._drop_reservation(reservation)
        connector = self.connectors[reservation.connector_id]
        if not connector.busy:
            self._after_reply(unique_id, lambda: self._set_status(connector, self._idle_status(connector)))
        return _answer("Accepted")

    # --- smart charging (K) -------------------------------------------------------------------

    @_answers("SetChargingProfile")
    def _on_set_charging_profile(self, payload: Payload, unique_id: str) -> Payload:
        evse_id = int(payload["evseId"])
        data = payload["chargingProfile"]
        if evse_id != 0 and evse_id not in self.connectors:
            return _answer("Rejected", "UnknownEvse")
        if not self.device_model.get_bool("SmartChargingCtrlr.Enabled", True):
            return _answer("Rejected", "NotEnabled")
        try:
            profile = profile_from_v201(data, evse_id, utc_now())
        except (KeyError, ValueError, TypeError, IndexError):
            return _answer("Rejected", "InvalidProfile")
        clash = any(
            p.profile_id != profile.profile_id
            and p.purpose is profile.purpose
            and p.stack_level == profile.stack_level
            and p.connector_id == profile.connector_id
            and p.purpose is not ProfilePurpose.TX
            for p in self.profiles.profiles
        )
        if clash:
            return _answer("Rejected", "DuplicateProfile")  # K01.FR.?: same stack level and purpose
        connector = self.connectors.get(evse_id)
        transaction = self._transaction_context(connector) if connector is not None else None
        try:
            installed = self.profiles.install(profile, transaction)
        except ProfileRejected as exc:
            LOGGER.info("%s: charging profile rejected: %s", self.station_id, exc)
            return _answer("Rejected", "InvalidProfile")
        self._forget_profiles()
        self._profile_data[installed.profile_id] = dict(data)
        self._after_reply(unique_id, self._announce_offers)
        return _answer("Accepted")

    @_answers("ClearChargingProfile")
    def _on_clear_charging_profile(self, payload: Payload, unique_id: str) -> Payload:
        criteria = payload.get("chargingProfileCriteria") or {}
        purpose_name = criteria.get("chargingProfilePurpose")
        if purpose_name is not None and purpose_name not in _PURPOSES_2X:
            return _answer("Unknown")
        profile_id = payload.get("chargingProfileId")
        removed = self.profiles.clear(
            profile_id=int(profile_id) if profile_id is not None else None,
            connector_id=criteria.get("evseId"),
            purpose=_PURPOSES_2X[purpose_name] if purpose_name else None,
            stack_level=criteria.get("stackLevel"),
        )
        if not removed:
            return _answer("Unknown")
        self._forget_profiles()
        self._after_reply(unique_id, self._announce_offers)
        return _answer("Accepted")

    @_answers("GetChargingProfiles")
    def _on_get_charging_profiles(self, payload: Payload, unique_id: str) -> Payload:
        criteria = payload["chargingProfile"]
        evse_id = payload.get("evseId")
        purpose_name = criteria.get("chargingProfilePurpose")
        ids = criteria.get("chargingProfileId")
        sources = criteria.get("chargingLimitSource")
        profiles = [
            p
            for p in self.profiles.profiles
            if (evse_id is None or p.connector_id == evse_id)
            and (purpose_name is None or _PURPOSES_2X.get(purpose_name) is p.purpose)
            and (criteria.get("stackLevel") is None or p.stack_level == criteria["stackLevel"])
            and (not ids or p.profile_id in ids)
            and (not sources or "CSO" in sources)
        ]
        if not profiles:
            return _answer("NoProfiles")
        request_id = int(payload["requestId"])
        self._after_reply(unique_id, lambda: self._report_charging_profiles(request_id, profiles))
        return _answer("Accepted")

    @_answers("GetCompositeSchedule")
    def _on_get_composite_schedule(self, payload: Payload, unique_id: str) -> Payload:
        evse_id = int(payload["evseId"])
        duration = int(payload["duration"])
        if (evse_id != 0 and evse_id not in self.connectors) or duration <= 0:
            return _answer("Rejected", "UnknownEvse" if duration > 0 else "InvalidValue")
        unit = RateUnit(payload.get("chargingRateUnit") or "A")
        start = utc_now()
        transaction = self._transaction_context(self.connectors[evse_id]) if evse_id else None
        periods = self.profiles.composite_schedule(
            evse_id,
            start,
            duration,
            unit,
            transaction,
            sharing_connectors=max(1, self._charging_connectors()),
        )
        return _answer(
            "Accepted",
            schedule={
                "evseId": evse_id,
                "duration": duration,
                "scheduleStart": iso(start),
                "chargingRateUnit": str(unit),
                "chargingSchedulePeriod": [
                    {
                        "startPeriod": p.start_period_s,
                        "limit": p.limit,
                        **({"numberPhases": p.number_phases} if p.number_phases else {}),
                    }
                    for p in periods
                ],
            },
        )

    # --- firmware (L) -------------------------------------------------------------------------

    @_answers("UpdateFirmware")
    def _on_update_firmware(self, payload: Payload, unique_id: str) -> Payload:
        firmware = payload["firmware"]
        request_id = int(payload["requestId"])
        certificate = firmware.get("signingCertificate")
        if certificate is not None:
            try:
                blocks = pem_to_der(str(certificate))
                if not blocks:
                    raise CertificateError("no certificate")
                parse_certificate(blocks[0])
            except CertificateError:
                # L01.FR.02: an invalid signing certificate, reported as a security event.
                self._security_event("InvalidFirmwareSigningCertificate", None, send=True)
                return _answer("InvalidCertificate")
        # L01.FR.24: a new request cancels the update in progress: AcceptedCanceled.
        canceled = self._firmware_busy()
        if canceled and self._firmware_task is not None:
            self._firmware_task.cancel()
        self.firmware_request_id = request_id

        async def update() -> None:
            self._firmware_task = asyncio.current_task()
            await self._update_firmware(request_id, firmware)

        self._after_reply(unique_id, update)
        return _answer("AcceptedCanceled" if canceled else "Accepted")

    @_answers("PublishFirmware")
    def _on_publish_firmware(self, payload: Payload, unique_id: str) -> Payload:
        location, checksum = str(payload["location"]), str(payload["checksum"])
        request_id = int(payload["requestId"])
        if self._publish_task is not None and not self._publish_task.done():
            self._publish_task.cancel()
        self.publish_request_id = request_id

        async def publish() -> None:
            self._publish_task = asyncio.current_task()
            await self._publish_firmware(location, checksum, request_id)

        self._after_reply(unique_id, publish)
        return _answer("Accepted")

    @_answers("UnpublishFirmware")
    def _on_unpublish_firmware(self, payload: Payload, unique_id: str) -> Payload:
        if self._publish_task is not None and not self._publish_task.done():
            return {"status": "DownloadOngoing"}
        if self.published is None or self.published[0] != payload["checksum"]:
            return {"status": "NoFirmware"}
        self.published = None
        self.publish_status = "Idle"
        return {"status": "Unpublished"}

    # --- certificates (A, M) ------------------------------------------------------------------

    @_answers("CertificateSigned")
    def _on_certificate_signed(self, payload: Payload, unique_id: str) -> Payload:
        chain_pem = str(payload["certificateChain"])
        certificate_type = str(payload.get("certificateType", "ChargingStationCertificate"))
        try:
            chain = [parse_certificate(der) for der in pem_to_der(chain_pem)]
        except CertificateError:
            chain = []
        pending = self._pending_keys.get(certificate_type)
        max_size = self.device_model.get_int("SecurityCtrlr.MaxCertificateChainSize", 10_000)
        valid = bool(chain) and len(chain_pem) <= max_size
        if valid and pending is not None and chain[0].public_key != pending.public_key:
            valid = False  # A02.FR.?: the certificate must be for the key of the last CSR
        if not valid:
            # A02.FR.?: discard it and report InvalidChargingStationCertificate.
            self._security_event("InvalidChargingStationCertificate", certificate_type, send=True)
            return _answer("Rejected", "InvalidCertificate")
        self.signed_chains[certificate_type] = chain
        if certificate_type == "ChargingStationCertificate":
            self.certificates.station_chain = chain
        self._pending_keys.pop(certificate_type, None)
        self._certificate_signed.set()
        return _answer("Accepted")

    @_answers("InstallCertificate")
    def _on_install_certificate(self, payload: Payload, unique_id: str) -> Payload:
        status = self.certificates.install(str(payload["certificateType"]), str(payload["certificate"]))
        return _answer(status, None if status == "Accepted" else "InvalidCertificate")

    @_answers("GetInstalledCertificateIds")
    def _on_get_installed_certificate_ids(self, payload: Payload, unique_id: str) -> Payload:
        wanted = payload.get("certificateType")
        chains: list[Payload] = []
        installed_types = {c.certificate_type for c in self.certificates.installed}
        for certificate_type in sorted(installed_types):
            if wanted and certificate_type not in wanted:
                continue
            for h in self.certificates.hashes(certificate_type):
                chains.append({"certificateType": certificate_type, "certificateHashData": _hash_data(h)})
        v2g = self.signed_chains.get("V2GCertificate")
        if v2g and (not wanted or "V2GCertificateChain" in wanted):
            leaf, children = v2g[0], v2g[1:]
            issuer = children[0] if children else None
            entry: Payload = {
                "certificateType": "V2GCertificateChain",
                "certificateHashData": _hash_data(certificate_hash(leaf, "SHA256", issuer)),
            }
            if children:
                entry["childCertificateHashData"] = [
                    _hash_data(
                        certificate_hash(c, "SHA256", children[i + 1] if i + 1 < len(children) else None)
                    )
                    for i, c in enumerate(children[:4])
                ]
            chains.append(entry)
        if not chains:
            return _answer("NotFound")
        return _answer("Accepted", certificateHashDataChain=chains)

    @_answers("DeleteCertificate")
    def _on_delete_certificate(self, payload: Payload, unique_id: str) -> Payload:
        data = payload["certificateHashData"]
        wanted = CertificateHash(
            hash_algorithm=str(data["hashAlgorithm"]),
            issuer_name_hash=str(data["issuerNameHash"]),
            issuer_key_hash=str(data["issuerKeyHash"]),
            serial_number=str(data["serialNumber"]),
        )
        return _answer(self.certificates.delete(wanted))

    # --- diagnostics (N) ----------------------------------------------------------------------

    @_answers("GetLog")
    def _on_get_log(self, payload: Payload, unique_id: str) -> Payload:
        canceled = self._log_task is not None and not self._log_task.done()
        if canceled and self._log_task is not None:
            self._log_task.cancel()
        request_id = int(payload["requestId"])
        self.log_request_id = request_id
        location = str(payload["log"]["remoteLocation"])

        async def upload() -> None:
            self._log_task = asyncio.current_task()
            await self._upload_log(location, request_id)

        self._after_reply(unique_id, upload)
        kind = "security" if payload["logType"] == "SecurityLog" else "diagnostics"
        return _answer(
            "AcceptedCanceled" if canceled else "Accepted",
            filename=f"{kind}-{self.station_id}-{request_id}.log"[:255],
        )

    @_answers("SetMonitoringBase")
    def _on_set_monitoring_base(self, payload: Payload, unique_id: str) -> Payload:
        self.device_model.set_monitoring_base(str(payload["monitoringBase"]), preconfigured_monitors)
        return _answer("Accepted")

    @_answers("SetMonitoringLevel")
    def _on_set_monitoring_level(self, payload: Payload, unique_id: str) -> Payload:
        severity = int(payload["severity"])
        if not 0 <= severity <= 9:
            return _answer("Rejected", "ValueOutOfRange")
        self.device_model.monitoring_level = severity
        return _answer("Accepted")

    @_answers("SetVariableMonitoring")
    def _on_set_variable_monitoring(self, payload: Payload, unique_id: str) -> Payload:
        entries = payload["setMonitoringData"]
        if len(entries) > self.device_model.get_int(
            "MonitoringCtrlr.ItemsPerMessage[SetVariableMonitoring]", 20
        ):
            raise OccurrenceConstraintViolationError(details={"cause": "too many setMonitoringData entries"})
        allowed = ["UpperThreshold", "LowerThreshold", "Delta", "Periodic", "PeriodicClockAligned"]
        results = []
        for entry in entries:
            outcome = self.device_model.set_monitor(entry, allowed)
            result: Payload = {
                "status": outcome.status,
                "type": entry["type"],
                "severity": entry["severity"],
                "component": entry["component"],
                "variable": entry["variable"],
            }
            if outcome.monitor_id is not None:
                result["id"] = outcome.monitor_id
            if outcome.reason is not None:
                result["statusInfo"] = status_info(outcome.reason)
            results.append(result)
        return {"setMonitoringResult": results}

    @_answers("ClearVariableMonitoring")
    def _on_clear_variable_monitoring(self, payload: Payload, unique_id: str) -> Payload:
        return {
            "clearMonitoringResult": [
                {"id": int(i), "status": self.device_model.clear_monitor(int(i))} for i in payload["id"]
            ]
        }

    @_answers("GetMonitoringReport")
    def _on_get_monitoring_report(self, payload: Payload, unique_id: str) -> Payload:
        groups = self.device_model.select_monitors(
            payload.get("componentVariable"), payload.get("monitoringCriteria")
        )
        if not groups:
            return _answer("EmptyResultSet")
        request_id = int(payload["requestId"])
        self._after_reply(unique_id, lambda: self._notify_monitoring_report(request_id, groups))
        return _answer("Accepted")

    @_answers("CustomerInformation")
    def _on_customer_information(self, payload: Payload, unique_id: str) -> Payload:
        """N09/N10: report and/or clear what the station keeps about a customer."""
        token = payload.get("idToken")
        identifier = payload.get("customerIdentifier")
        certificate = payload.get("customerCertificate")
        if token is None and identifier is None and certificate is None:
            return _answer("Invalid", "MissingParam")
        lines: list[str] = []
        if token is not None:
            tag = str(token["idToken"])
            cached = self.auth_cache.get(tag)
            listed = self.local_list.lookup(tag)
            sessions = [
                c.connector_id for c in self.connectors.values() if c.session and c.session.id_tag == tag
            ]
            lines.append(f"idToken {tag} ({token['type']})")
            lines.append(f"authorization cache: {cached.status if cached else 'none'}")
            lines.append(f"local list: {listed.status if listed else 'none'}")
            lines.append(f"sessions on EVSE: {', '.join(map(str, sessions)) or 'none'}")
            if payload["clear"]:
                self.auth_cache.pop(tag, None)
        if identifier is not None:
            lines.append(f"customer {identifier}: no data kept")
        if certificate is not None:
            lines.append(f"certificate {certificate['serialNumber']}: no data kept")
        request_id = int(payload["requestId"])
        if payload["report"]:
            text = "; ".join(lines)
            self._after_reply(unique_id, lambda: self._notify_customer_information(request_id, text))
        elif payload["clear"]:
            self._after_reply(unique_id, lambda: self._notify_customer_information(request_id, "cleared"))
        return _answer("Accepted")

    # --- display messages (O) -----------------------------------------------------------------

    @_answers("SetDisplayMessage")
    def _on_set_display_message(self, payload: Payload, unique_id: str) -> Payload:
        info = payload["message"]
        dm = self.device_model
        if not dm.get_bool("DisplayMessageCtrlr.Enabled", True):
            return _answer("Rejected", "NotEnabled")
        if info["message"]["format"] not in dm.get_list("DisplayMessageCtrlr.SupportedFormats"):
            return _answer("NotSupportedMessageFormat")
        if info["priority"] not in dm.get_list("DisplayMessageCtrlr.SupportedPriorities"):
            return _answer("NotSupportedPriority")
        transaction_id = info.get("transactionId")
        if transaction_id is not None and self._find_transaction(str(transaction_id)) is None:
            return _answer("UnknownTransaction")
        message_id = int(info["id"])
        limit = int(dm.lookup("DisplayMessageCtrlr.DisplayMessages").max_limit or 20)
        if message_id not in self.display_messages and len(self.display_messages) >= limit:
            return _answer("Rejected", "OutOfStorage")
        self.display_messages[message_id] = DisplayMessage(message_id, dict(info))
        return _answer("Accepted")

    @_answers("GetDisplayMessages")
    def _on_get_display_messages(self, payload: Payload, unique_id: str) -> Payload:
        now = utc_now()
        for message_id, message in list(self.display_messages.items()):
            if message.expired(now):
                del self.display_messages[message_id]
        ids = payload.get("id")
        priority = payload.get("priority")
        state = payload.get("state")
        found = [
            m
            for m in sorted(self.display_messages.values(), key=lambda m: m.message_id)
            if (not ids or m.message_id in ids)
            and (priority is None or m.priority == priority)
            and (state is None or m.state == state)
        ]
        if not found:
            return _answer("Unknown")
        request_id = int(payload["requestId"])
        self._after_reply(unique_id, lambda: self._notify_display_messages(request_id, found))
        return _answer("Accepted")

    @_answers("ClearDisplayMessage")
    def _on_clear_display_message(self, payload: Payload, unique_id: str) -> Payload:
        if self.display_messages.pop(int(payload["id"]), None) is None:
            return _answer("Unknown")
        return _answer("Accepted")

    # --- OCPP 2.1: DER control, tariffs, priority charging and the rest -----------------------

    @_answers("SetDERControl", since="2.1")
    def _on_set_der_control(self, payload: Payload, unique_id: str) -> Payload:
        control_id = str(payload["controlId"])
        field_name = _DER_FIELDS.get(str(payload["controlType"]), ("curve", "curve", "curve"))[0]
        if field_name not in payload:
            return _answer("Rejected", "MissingParam")  # the settings of its control type
        superseded = [
            other_id
            for other_id, other in self.der_controls.items()
            if other_id != control_id
            and other["controlType"] == payload["controlType"]
            and other["isDefault"] == payload["isDefault"]
            and not other.get("isSuperseded")
        ]
        for other_id in superseded:
            self.der_controls[other_id] = {**self.der_controls[other_id], "isSuperseded": True}
        self.der_controls[control_id] = dict(payload)
        answer = _answer("Accepted")
        if superseded:
            answer["supersededIds"] = superseded[:24]
        return answer

    @_answers("GetDERControl", since="2.1")
    def _on_get_der_control(self, payload: Payload, unique_id: str) -> Payload:
        matching = [
            c
            for c in self.der_controls.values()
            if (payload.get("controlId") is None or c["controlId"] == payload["controlId"])
            and (payload.get("controlType") is None or c["controlType"] == payload["controlType"])
            and (payload.get("isDefault") is None or c["isDefault"] == payload["isDefault"])
        ]
        if not matching:
            return _answer("NotFound")
        request_id = int(payload["requestId"])
        self._after_reply(unique_id, lambda: self._report_der_controls(request_id, matching))
        return _answer("Accepted")

    async def _report_der_controls(self, request_id: int, controls: list[Payload]) -> None:
        """ReportDERControl: each control in the list of its type, 24 a message at most."""
        parts = chunks(controls, 24)
        for index, part in enumerate(parts):
            payload: Payload = {"requestId": request_id}
            for control in part:
                control_type = str(control["controlType"])
                field_name, report_list, get_name = _DER_FIELDS.get(control_type, ("curve", "curve", "curve"))
                entry: Payload = {"id": control["controlId"], get_name: control[field_name]}
                if report_list not in ("enterService", "gradient"):
                    entry["isDefault"] = control["isDefault"]
                    entry["isSuperseded"] = bool(control.get("isSuperseded", False))
                if report_list == "curve":
                    entry["curveType"] = control_type
                payload.setdefault(report_list, []).append(entry)
            if index < len(parts) - 1:
                payload["tbc"] = True
            await self._call("ReportDERControl", payload, before_boot=True)

    @_answers("ClearDERControl", since="2.1")
    def _on_clear_der_control(self, payload: Payload, unique_id: str) -> Payload:
        gone = [
            control_id
            for control_id, c in self.der_controls.items()
            if c["isDefault"] == payload["isDefault"]
            and (payload.get("controlId") is None or control_id == payload["controlId"])
            and (payload.get("controlType") is None or c["controlType"] == payload["controlType"])
        ]
        for control_id in gone:
            del self.der_controls[control_id]
        return _answer("Accepted" if gone else "NotFound")

    @_answers("NotifyAllowedEnergyTransfer", since="2.1")
    def _on_notify_allowed_energy_transfer(self, payload: Payload, unique_id: str) -> Payload:
        if self._find_transaction(str(payload["transactionId"])) is None:
            return _answer("Rejected", "TxNotFound")
        return _answer("Accepted")

    @_answers("SetDefaultTariff", since="2.1")
    def _on_set_default_tariff(self, payload: Payload, unique_id: str) -> Payload:
        evse_id = int(payload["evseId"])
        if evse_id != 0 and evse_id not in self.connectors:
            return _answer("Rejected", "UnknownEvse")
        tariff = dict(payload["tariff"])
        tariff_id = str(tariff["tariffId"])
        evses = {evse_id} if evse_id else set(self.connectors)
        existing = self.tariffs.get(tariff_id)
        if existing is not None and existing[0] != tariff:
            return _answer("DuplicateTariffId")
        for other_id, (_other, other_evses) in list(self.tariffs.items()):
            # One default tariff per EVSE: the new one takes its EVSEs over.
            other_evses -= evses
            if not other_evses:
                del self.tariffs[other_id]
        self.tariffs[tariff_id] = (tariff, evses | (existing[1] if existing else set()))
        return _answer("Accepted")

    @_answers("GetTariffs", since="2.1")
    def _on_get_tariffs(self, payload: Payload, unique_id: str) -> Payload:
        evse_id = int(payload["evseId"])
        assignments: list[Payload] = [
            {"tariffId": tariff_id, "tariffKind": "DefaultTariff", "evseIds": sorted(evses)}
            for tariff_id, (_tariff, evses) in self.tariffs.items()
            if evse_id == 0 or evse_id in evses
        ]
        for transaction_id, tariff in self.transaction_tariffs.items():
            found = self._find_transaction(transaction_id)
            if found is not None and (evse_id == 0 or found[0].connector_id == evse_id):
                assignments.append(
                    {
                        "tariffId": str(tariff["tariffId"]),
                        "tariffKind": "DriverTariff",
                        "evseIds": [found[0].connector_id],
                        "idTokens": [found[1].id_tag],
                    }
                )
        if not assignments:
            return _answer("NoTariff")
        return _answer("Accepted", tariffAssignments=assignments)

    @_answers("ClearTariffs", since="2.1")
    def _on_clear_tariffs(self, payload: Payload, unique_id: str) -> Payload:
        wanted = payload.get("tariffIds")
        evse_id = payload.get("evseId")
        results: list[Payload] = []
        ids = list(wanted) if wanted else list(self.tariffs)
        for tariff_id in ids:
            entry = self.tariffs.get(tariff_id)
            if entry is None:
                results.append({"tariffId": tariff_id, "status": "NoTariff"})
                continue
            if evse_id:
                entry[1].discard(int(evse_id))
                if not entry[1]:
                    del self.tariffs[tariff_id]
            else:
                del self.tariffs[tariff_id]
            results.append({"tariffId": tariff_id, "status": "Accepted"})
        if not results:
            results.append({"status": "NoTariff"})
        return {"clearTariffsResult": results}

    @_answers("ChangeTransactionTariff", since="2.1")
    def _on_change_transaction_tariff(self, payload: Payload, unique_id: str) -> Payload:
        transaction_id = str(payload["transactionId"])
        if self._find_transaction(transaction_id) is None:
            return _answer("TxNotFound")
        tariff = dict(payload["tariff"])
        previous = self.transaction_tariffs.get(transaction_id)
        if previous is not None and previous.get("currency") != tariff.get("currency"):
            return _answer("NoCurrencyChange")
        self.transaction_tariffs[transaction_id] = tariff
        return _answer("Accepted")

    @_answers("UsePriorityCharging", since="2.1")
    def _on_use_priority_charging(self, payload: Payload, unique_id: str) -> Payload:
        if self._find_transaction(str(payload["transactionId"])) is None:
            return _answer("Rejected", "TxNotFound")
        return _answer("NoProfile")  # no PriorityCharging profile is ever installed here

    @_answers("UpdateDynamicSchedule", since="2.1")
    def _on_update_dynamic_schedule(self, payload: Payload, unique_id: str) -> Payload:
        return _answer("Rejected", "InvalidProfile")  # no dynamic profiles here

    @_answers("AFRRSignal", since="2.1")
    def _on_afrr_signal(self, payload: Payload, unique_id: str) -> Payload:
        return _answer("Rejected", "NotEnabled")  # no aFRR-enabled charging profile here

    @_answers("RequestBatterySwap", since="2.1")
    def _on_request_battery_swap(self, payload: Payload, unique_id: str) -> Payload:
        return _answer("Rejected", "UnsupportedRequest")  # not a battery swap station

    @_answers("NotifyWebPaymentStarted", since="2.1")
    def _on_notify_web_payment_started(self, payload: Payload, unique_id: str) -> Payload:
        return {}

    @_answers("AdjustPeriodicEventStream", since="2.1")
    def _on_adjust_periodic_event_stream(self, payload: Payload, unique_id: str) -> Payload:
        return _answer("Rejected", "NotFound")  # this station opens no periodic event streams

    @_answers("GetPeriodicEventStream", since="2.1")
    def _on_get_periodic_event_stream(self, payload: Payload, unique_id: str) -> Payload:
        return {}


class SimulatedStation21(SimulatedStation201):
    """The same station speaking OCPP 2.1 (subprotocol ocpp2.1)."""

    def __init__(self, station_id: str, url: str = "ws://127.0.0.1:8000/ocpp", **options: Any) -> None:
        options.setdefault("version", "2.1")
        super().__init__(station_id, url, **options)
