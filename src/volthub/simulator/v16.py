"""An OCPP 1.6-J simulated charging station: ``SimulatedStation16`` and its 1.6 translations.

The station is an outside client of the CSMS: it speaks OCPP through the ``ocpp`` library's 1.6
``ChargePoint`` (schema validation both ways) over a ``websockets`` connection, and keeps its
behaviour in the version-neutral ``behaviour``, ``ev``, ``smart_charging``, ``configuration`` and
``certificates`` modules. It answers every CSMS-initiated 1.6 message, security whitepaper
included.

Test hooks: a firmware or upload ``location`` containing ``download-fail``, ``install-fail`` or
``upload-fail`` makes that step fail, so a CSMS's failure paths can be exercised.

Threading model: one ``asyncio`` task reads the socket and runs the handlers; handlers only
decide and answer. Whatever must be sent because of a command (the message a TriggerMessage asks
for, a StopTransaction after RemoteStopTransaction, firmware status notifications…) runs as a
follow-up task that starts once the answer is on the wire: the reading task must stay free to
receive the CSMS's answers to those messages.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import random
import time
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

from ocpp.exceptions import OCPPError
from ocpp.routing import create_route_map, on
from ocpp.v16 import ChargePoint, call, call_result
from ocpp.v16.enums import Action
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
    CertificateStore,
    build_csr,
    generate_rsa_key,
    parse_certificate,
    pem_to_der,
)
from volthub.simulator.configuration import ChangeStatus, ConfigStore, default_v16_configuration
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

LOGGER = logging.getLogger("volthub.simulator")

SUBPROTOCOL = "ocpp1.6"
DATA_TRANSFER_VENDOR_ID = "com.volthub.simulator"

_F = TypeVar("_F", bound=Callable[..., Any])


def _handles(action: Action) -> Callable[[_F], _F]:
    """``ocpp.routing.on`` with a type, so that handlers stay typed."""
    return cast(Callable[[_F], _F], on(action))


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    """OCPP-J timestamps: UTC, ISO 8601, milliseconds, ``Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_time(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


class SessionError(Exception):
    """A charging session that could not start: connector busy, authorization refused…"""


class StationConnectionError(Exception):
    """The WebSocket connection could not be opened (refused, 401, wrong subprotocol)."""


@dataclass(frozen=True)
class StationTimings:
    """Wall-clock pauses of simulated physical steps (seconds); tests make them short."""

    reboot_s: float = 2.0
    unplug_s: float = 1.0
    firmware_step_s: float = 2.0
    upload_step_s: float = 1.0
    reconnect_max_s: float = 30.0


@dataclass
class _SessionControl:
    stop: asyncio.Event
    finished: asyncio.Event
    reason: StopReason = StopReason.LOCAL
    #: A hard reset ends the session without a StopTransaction; it is sent after the reboot.
    abandon: bool = False


_PURPOSES = {
    "ChargePointMaxProfile": ProfilePurpose.STATION_MAX,
    "TxDefaultProfile": ProfilePurpose.TX_DEFAULT,
    "TxProfile": ProfilePurpose.TX,
}
_PURPOSE_NAMES = {purpose: name for name, purpose in _PURPOSES.items()}


def profile_from_v16(data: Mapping[str, Any], connector_id: int, installed_at: datetime) -> ChargingProfile:
    """A 1.6 csChargingProfiles (as the ``ocpp`` library hands it: snake_case keys, decimals)
    in the neutral form. Raises KeyError/ValueError for what does not translate."""
    schedule = data["charging_schedule"]
    periods = tuple(
        SchedulePeriod(
            start_period_s=int(p["start_period"]),
            limit=float(p["limit"]),
            number_phases=int(p["number_phases"]) if p.get("number_phases") else None,
        )
        for p in schedule["charging_schedule_period"]
    )
    recurrency = data.get("recurrency_kind")
    transaction_id = data.get("transaction_id")
    min_rate = schedule.get("min_charging_rate")
    return ChargingProfile(
        profile_id=int(data["charging_profile_id"]),
        stack_level=int(data["stack_level"]),
        purpose=_PURPOSES[data["charging_profile_purpose"]],
        kind=ProfileKind(str(data["charging_profile_kind"]).lower()),
        rate_unit=RateUnit(schedule["charging_rate_unit"]),
        periods=periods,
        connector_id=connector_id,
        installed_at=installed_at,
        transaction_id=None if transaction_id is None else str(transaction_id),
        recurrency=Recurrency(str(recurrency).lower()) if recurrency else None,
        valid_from=parse_time(data["valid_from"]) if data.get("valid_from") else None,
        valid_to=parse_time(data["valid_to"]) if data.get("valid_to") else None,
        start_schedule=(parse_time(schedule["start_schedule"]) if schedule.get("start_schedule") else None),
        duration_s=int(schedule["duration"]) if schedule.get("duration") is not None else None,
        min_charging_rate=float(min_rate) if min_rate is not None else None,
    )


def sampled_values(readings: Readings, measurands: tuple[str, ...], context: str) -> list[dict[str, str]]:
    """1.6 SampledValue entries (§7.43) for ``measurands``: one per phase where phases apply."""
    values: list[dict[str, str]] = []

    def add(value: str, measurand: str, unit: str | None, **extra: str) -> None:
        entry = {"value": value, "context": context, "format": "Raw", "measurand": measurand}
        if unit is not None:
            entry["unit"] = unit
        entry.update(extra)
        values.append(entry)

    phase_names = ("L1", "L2", "L3")[: readings.phases]
    for measurand in measurands:
        if measurand == "Energy.Active.Import.Register":
            add(f"{readings.energy_register_wh:.0f}", measurand, "Wh", location="Outlet")
        elif measurand == "Energy.Active.Import.Interval":
            add(f"{readings.energy_interval_wh:.0f}", measurand, "Wh", location="Outlet")
        elif measurand == "Power.Active.Import":
            add(f"{readings.power_w:.0f}", measurand, "W", location="Outlet")
        elif measurand == "Power.Offered":
            add(f"{readings.offered_power_w:.0f}", measurand, "W", location="Outlet")
        elif measurand == "Current.Import":
            for phase in phase_names:
                add(f"{readings.current_a:.1f}", measurand, "A", location="Outlet", phase=phase)
        elif measurand == "Current.Offered":
            add(f"{readings.offered_current_a:.1f}", measurand, "A", location="Outlet")
        elif measurand == "Voltage":
            for phase, voltage in zip(phase_names, readings.voltage_v, strict=False):
                add(f"{voltage:.1f}", measurand, "V", location="Outlet", phase=f"{phase}-N")
        elif measurand == "Frequency":
            add(f"{readings.frequency_hz:.2f}", measurand, None, location="Outlet")
        elif measurand == "Temperature":
            add(f"{readings.temperature_c:.1f}", measurand, "Celsius", location="Body")
        elif measurand == "SoC" and readings.soc_percent is not None:
            add(f"{readings.soc_percent:.1f}", measurand, "Percent", location="EV")
    return values


def meter_value(sample: MeterSample) -> dict[str, Any]:
    """A 1.6 MeterValue (§7.33)."""
    return {
        "timestamp": iso(sample.timestamp),
        "sampledValue": sampled_values(sample.readings, sample.measurands, sample.context),
    }


class _Link:
    """The connection the ``ocpp`` ChargePoint talks through: it records the CSMS's calls and
    starts a command's follow-up once the answer has been sent."""

    def __init__(self, station: SimulatedStation16, ws: ClientConnection) -> None:
        self._station = station
        self._ws = ws

    async def recv(self) -> str:
        raw = await self._ws.recv()
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        self._station._observe_incoming(text)
        return text

    async def send(self, message: str) -> None:
        await self._ws.send(message)
        self._station._observe_outgoing(message)


class SimulatedStation16:
    """A simulated OCPP 1.6 charging station with ``connectors`` AC connectors.

    Library use (e2e tests)::

        station = SimulatedStation16("SIM-0001", "ws://127.0.0.1:8000/ocpp")
        await station.start()                      # connect, boot, statuses, heartbeats
        tx_id = await station.plug_in_and_charge(1, "TAG1")
        await station.stop_session(1)
        await station.close()

    ``received_calls`` lists every CSMS call as (action, payload) in OCPP's own camelCase form.
    """

    def __init__(
        self,
        station_id: str,
        url: str = "ws://127.0.0.1:8000/ocpp",
        *,
        connectors: int = 1,
        password: str | None = None,
        id_tag: str = "SIMTAG",
        meter_interval_s: int = 10,
        heartbeat_interval_s: int | None = None,
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
    ) -> None:
        if connectors < 1:
            raise ValueError("a station needs at least one connector")
        if time_scale <= 0:
            raise ValueError("time_scale must be positive")
        self.station_id = station_id
        self.url = url
        self.id_tag = id_tag
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
        self.planner = SessionPlanner(self.rng, time_scale)
        self._heartbeat_override_s = heartbeat_interval_s

        self.config: ConfigStore = default_v16_configuration(
            connector_count=connectors,
            heartbeat_interval_s=heartbeat_interval_s or 300,
            meter_interval_s=meter_interval_s,
            authorization_key_value=password,
        )
        self.config.on_change(self._config_changed)
        self.connectors: dict[int, Connector] = {
            n: Connector(
                n,
                max_current_a,
                phases,
                # A used meter: registers do not start at zero.
                meter_register_wh=float(self.rng.randrange(0, 5_000_000)),
            )
            for n in range(1, connectors + 1)
        }
        for connector in self.connectors.values():
            connector.last_sample_register_wh = connector.meter_register_wh
        self.station_status = ConnectorStatus.AVAILABLE
        self.station_operative = True
        self.profiles = ProfileStore(
            StationCapabilities(
                connector_count=connectors,
                max_current_a=max_current_a,
                phases=phases,
                max_stack_level=self.config.get_int("ChargeProfileMaxStackLevel", 10),
                max_schedule_periods=self.config.get_int("ChargingScheduleMaxPeriods", 24),
                max_profiles=self.config.get_int("MaxChargingProfilesInstalled", 20),
            )
        )
        self.local_list = LocalAuthList(self.config.get_int("LocalAuthListMaxLength", 1000))
        self.auth_cache: dict[str, AuthEntry] = {}
        self.certificates = CertificateStore(self.config.get_int("CertificateStoreMaxLength", 20))
        self.reservations: dict[int, Reservation] = {}

        #: Every CSMS call received: (action, payload as sent, camelCase).
        self.received_calls: list[tuple[str, dict[str, Any]]] = []
        #: Every call this station sent (action, the ``ocpp`` payload object), if recorded.
        self.sent_calls: list[tuple[str, Any]] = []
        self.boot_status: str | None = None
        self.heartbeat_interval_s: int = self.config.get_int("HeartbeatInterval", 300)
        self.firmware_status = "Idle"
        self.signed_firmware_status = "Idle"
        self.diagnostics_status = "Idle"
        self.log_status = "Idle"
        #: Security events (whitepaper §8), newest last: (time, type, tech info).
        self.security_log: list[tuple[datetime, str, str | None]] = []

        self._ws: ClientConnection | None = None
        self._wire: Any = None
        self._connection_lost: asyncio.Future[None] | None = None
        self._online = asyncio.Event()
        self._registered = asyncio.Event()
        self._closing = False
        self._holding_offline = False
        self._out_lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._reader: asyncio.Task[None] | None = None
        self._reconnector: asyncio.Task[None] | None = None
        self._background: list[asyncio.Task[None]] = []
        self._followups: dict[str, Callable[[], Coroutine[Any, Any, None]]] = {}
        self._controls: dict[int, _SessionControl] = {}
        self._session_tasks: dict[int, asyncio.Task[None]] = {}
        self._reservation_timers: dict[int, asyncio.Task[None]] = {}
        self._heartbeat_wakeup = asyncio.Event()
        self._aligned_wakeup = asyncio.Event()
        self._call_arrived = asyncio.Event()
        self._firmware_task: asyncio.Task[Any] | None = None
        self._log_task: asyncio.Task[Any] | None = None
        self._signed_firmware_request_id: int | None = None
        self._log_request_id: int | None = None
        self._abandoned: list[tuple[int, Session]] = []
        self._auto_mode = False

    # --- public API ---------------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        return self._online.is_set()

    @property
    def registered(self) -> bool:
        """Accepted by a BootNotification (and not rebooted since)."""
        return self._registered.is_set()

    async def connect(self) -> None:
        """Open the WebSocket ``{url}/{station_id}`` with subprotocol ocpp1.6 (and HTTP Basic
        auth when a password is set). Raises StationConnectionError."""
        if self._ws is not None:
            return
        uri = f"{self.url.rstrip('/')}/{self.station_id}"
        headers: dict[str, str] = {}
        key = self.config.get("AuthorizationKey")
        if key:
            # Whitepaper §2.3: user = the station identity, password = AuthorizationKey.
            token = base64.b64encode(f"{self.station_id}:{key}".encode()).decode("ascii")
            headers["Authorization"] = f"Basic {token}"
        ping_s = self.config.get_int("WebSocketPingInterval", 0)
        try:
            ws = await connect(
                uri,
                subprotocols=[Subprotocol(SUBPROTOCOL)],
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
                self._security_event("FailedToAuthenticateAtCentralSystem", None)
            raise StationConnectionError(f"{uri}: handshake refused with HTTP {status}") from exc
        except (OSError, WebSocketException, TimeoutError) as exc:
            self.stats.connection_failures += 1
            raise StationConnectionError(f"{uri}: {exc!r}") from exc
        if ws.subprotocol != SUBPROTOCOL:
            await ws.close()
            self.stats.connection_failures += 1
            raise StationConnectionError(f"{uri}: the server did not select {SUBPROTOCOL}")
        self._attach(ws)

    async def boot(self, *, retry: bool = True) -> str:
        """Send BootNotification; while Pending or Rejected, retry after the interval the CSMS
        gave (1.6 §4.2). Returns the last registration status."""
        while not self._closing:
            if not self.connected:
                # Until accepted, the boot owns reconnecting (``_lost`` leaves it alone).
                await self._connect_with_retry()
                continue
            result = await self._call(self._boot_payload(), before_boot=True)
            if result is None:
                if not retry:
                    return "NoAnswer"
                # Lost connection, CALLERROR or timeout: try again after a pause.
                await asyncio.sleep(min(5.0, self.timings.reconnect_max_s))
                continue
            status = str(result.status)
            self._boot_answered(status, int(result.interval))
            if status == "Accepted" or not retry:
                return status
            # §4.2: a zero interval lets the station choose, "in a way that avoids flooding".
            wait_s = int(result.interval) or 30
            if status == "Rejected":
                # §4.2: "While Rejected, the Charge Point SHALL NOT respond to any Central System
                # initiated message" and "MAY close its communication channel".
                await self._go_offline()
                await asyncio.sleep(wait_s)
                await self._connect_with_retry()
            else:
                # Pending: stay connected; a TriggerMessage(BootNotification) may accept sooner.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._registered.wait(), wait_s)
                if self.registered:
                    return "Accepted"
        return self.boot_status or "NoAnswer"

    async def start(self) -> None:
        """Connect, boot until Accepted, send the connectors' statuses, start heartbeats."""
        await self.connect()
        await self._after_connect()

    async def run(self, *, sessions_per_connector: int | None = None) -> None:
        """Runner mode: come online (retrying), then charge randomly arriving EVs on every
        connector, ``sessions_per_connector`` times each (None: until closed)."""
        self._auto_mode = True
        await self._connect_with_retry()
        await self._after_connect()
        await asyncio.gather(*(self._auto_sessions(c, sessions_per_connector) for c in self.connectors))

    async def plug_in_and_charge(
        self,
        connector_id: int = 1,
        id_tag: str | None = None,
        *,
        ev: ElectricVehicle | None = None,
        max_duration_s: float | None = None,
        stop_when_full: bool = False,
    ) -> int:
        """Plug an EV in, authorize ``id_tag``, start a transaction; return its transactionId.

        The EV then charges (with MeterValues) until ``stop_session``, a CSMS command, the
        simulated ``max_duration_s`` or, with ``stop_when_full``, a full battery. Raises
        SessionError when the connector is not free or the idTag is refused.
        """
        connector = self._connector(connector_id)
        tag = id_tag or self.id_tag
        if not self._connector_free(connector, tag):
            raise SessionError(f"connector {connector_id} is {connector.status}")
        session = self._claim(connector, tag, ev, max_duration_s, stop_when_full, remote=False)
        return await self._start_session(connector, session, profile=None)

    async def stop_session(self, connector_id: int = 1, reason: StopReason | str = StopReason.LOCAL) -> None:
        """End the session on ``connector_id`` (StopTransaction, Finishing, Available)."""
        control = self._controls.get(connector_id)
        if control is None:
            return
        control.reason = StopReason(reason)
        control.stop.set()
        await control.finished.wait()

    async def wait_session_end(self, connector_id: int = 1) -> None:
        control = self._controls.get(connector_id)
        if control is not None:
            await control.finished.wait()

    def transaction_id(self, connector_id: int = 1) -> int | None:
        session = self._connector(connector_id).session
        if session is None or session.transaction_id is None:
            return None
        return int(session.transaction_id)

    def status(self, connector_id: int = 1) -> str:
        if connector_id == 0:
            return str(self.station_status)
        return str(self._connector(connector_id).status)

    def charging_limit_w(self, connector_id: int = 1) -> float | None:
        """The limit the charging profiles put on the connector now, in W (None: no limit)."""
        connector = self._connector(connector_id)
        session = connector.session
        limit = self._profile_limit(connector)
        if limit is None:
            return None
        return limit.to_watts(session.ev.phases if session is not None else None)

    def offered_power_w(self, connector_id: int = 1) -> float:
        """The power offered to the EV now: hardware, profiles and authorization combined."""
        connector = self._connector(connector_id)
        return self._offer_for(connector) if connector.session is not None else 0.0

    def power_w(self, connector_id: int = 1) -> float:
        session = self._connector(connector_id).session
        return session.power_w if session is not None else 0.0

    def meter_register_wh(self, connector_id: int = 1) -> float:
        connector = self._connector(connector_id)
        if connector.session is not None:
            self._advance(connector)
        return connector.meter_register_wh

    async def wait_for_call(self, action: str, *, timeout_s: float = 10.0, since: int = 0) -> dict[str, Any]:
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
        """StatusNotification for connector 0 and each connector."""
        await self._send_status(0)
        for connector_id in self.connectors:
            await self._send_status(connector_id)

    async def heartbeat(self) -> str | None:
        """Send one Heartbeat; return the CSMS's currentTime."""
        result = await self._call(call.Heartbeat())
        return None if result is None else str(result.current_time)

    async def authorize(self, id_tag: str) -> str:
        """Send Authorize; return the idTagInfo status ("NoAnswer" when unanswered)."""
        result = await self._call(call.Authorize(id_tag=id_tag))
        if result is None:
            return "NoAnswer"
        return str(result.id_tag_info["status"])

    async def data_transfer(
        self, vendor_id: str, message_id: str | None = None, data: str | None = None
    ) -> tuple[str, str | None] | None:
        result = await self._call(call.DataTransfer(vendor_id=vendor_id, message_id=message_id, data=data))
        return None if result is None else (str(result.status), result.data)

    async def shutdown(self, *, stop_sessions: bool = True, timeout_s: float = 10.0) -> None:
        """End running sessions (StopTransaction) when asked, then close."""
        if stop_sessions and self.connected:
            stops = [self.stop_session(c) for c in list(self._controls)]
            if stops:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.gather(*stops, return_exceptions=True), timeout_s)
        await self.close()

    async def close(self) -> None:
        """Close the connection and stop every task of this station."""
        if self._closing:
            return
        self._closing = True
        current = asyncio.current_task()
        tasks = [
            t for t in [*self._tasks, *self._background, *self._session_tasks.values()] if t is not current
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
        # Gathered with their exceptions, so that only a cancellation of close() itself propagates.
        await asyncio.gather(*tasks, return_exceptions=True)
        if self.registered:
            self._registered.clear()
            self.stats.booted -= 1

    # --- connection ---------------------------------------------------------------------------

    def _attach(self, ws: ClientConnection) -> None:
        wire = ChargePoint(self.station_id, _Link(self, ws), response_timeout=self.response_timeout_s)
        # The handlers live on this object, not on a ChargePoint subclass.
        wire.route_map = create_route_map(self)
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
        if self.registered and not (self._closing or self._holding_offline):
            LOGGER.info("%s: connection lost, reconnecting", self.station_id)
            self._reconnector = self._spawn(self._reconnect())

    async def _reconnect(self) -> None:
        await self._connect_with_retry()
        await self._after_connect()

    async def _connect_with_retry(self) -> None:
        delay_s = 1.0
        while not self._closing:
            try:
                await self.connect()
                return
            except StationConnectionError as exc:
                LOGGER.info("%s: %s; retrying in %.0f s", self.station_id, exc, delay_s)
            await asyncio.sleep(delay_s * self.rng.uniform(0.8, 1.2))
            delay_s = min(delay_s * 2, self.timings.reconnect_max_s)

    async def _after_connect(self) -> None:
        """Boot unless still accepted from before (a reconnect need not boot again), then
        announce the connectors and start the periodic messages."""
        if not self.registered:
            await self.boot()
            if self._abandoned:
                await self._stop_abandoned()
        await self.send_status_notifications()
        self._start_background()

    async def _go_offline(self) -> None:
        """Close the connection on purpose (reboot, new credentials) without reconnecting."""
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

    def _observe_outgoing(self, text: str) -> None:
        if not self._followups:
            return
        try:
            message = json.loads(text)
        except ValueError:
            return
        if isinstance(message, list) and len(message) >= 2 and message[0] in (3, 4):
            followup = self._followups.pop(str(message[1]), None)
            if followup is not None and message[0] == 3:
                self._spawn(followup())

    def _after_reply(self, unique_id: str, followup: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """Run ``followup`` once the answer to call ``unique_id`` has been sent."""
        self._followups[unique_id] = followup

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

    async def _call(self, payload: Any, *, transactional: bool = False, before_boot: bool = False) -> Any:
        """Send one CALL and return the ``ocpp`` result object, or None.

        Calls go out one at a time, in the order they were made. Without a connection (or before
        the boot is accepted) a call is dropped, except transaction-related ones, which wait and
        are retried after a CALLERROR or timeout up to TransactionMessageAttempts times
        (1.6 §3.7.1). ``before_boot`` marks what may go before an accepted boot: the boot itself
        and what a TriggerMessage asks for while Pending (§4.2).
        """
        action = type(payload).__name__
        attempts = 0
        while not self._closing:
            if not self._may_send(before_boot):
                if not transactional:
                    return None
                await self._online.wait()
                if not before_boot:
                    await self._registered.wait()
                continue
            async with self._out_lock:
                wire, lost = self._wire, self._connection_lost
                if wire is None or lost is None or not self._may_send(before_boot):
                    continue
                if self.record_sent_calls:
                    self.sent_calls.append((action, payload))
                self.stats.calls_sent += 1
                pending = asyncio.ensure_future(wire.call(payload, suppress=False))
                await asyncio.wait({pending, lost}, return_when=asyncio.FIRST_COMPLETED)
                if not pending.done():
                    # The connection went while waiting: the answer will never come on it.
                    pending.cancel()
                    await asyncio.gather(pending, return_exceptions=True)
                    if transactional:
                        continue
                    return None
                try:
                    return pending.result()
                except OCPPError as exc:
                    self.stats.call_errors += 1
                    LOGGER.warning("%s: %s answered with %r", self.station_id, action, exc)
                except TimeoutError:
                    self.stats.timeouts += 1
                    LOGGER.warning("%s: %s not answered in time", self.station_id, action)
                except (ConnectionClosed, WebSocketException):
                    if transactional:
                        continue
                    return None
            attempts += 1
            if not transactional or attempts >= self.config.get_int("TransactionMessageAttempts", 3):
                return None
            await asyncio.sleep(self.config.get_int("TransactionMessageRetryInterval", 10) * attempts)
        return None

    def _boot_payload(self) -> Any:
        return call.BootNotification(
            charge_point_model=self.model[:20],
            charge_point_vendor=self.vendor[:20],
            charge_point_serial_number=self.station_id[:25],
            charge_box_serial_number=self.station_id[:25],
            firmware_version=self.firmware_version[:50],
            meter_type="SimMeter AC"[:25],
            meter_serial_number=f"M-{self.station_id}"[:25],
        )

    def _boot_answered(self, status: str, interval_s: int) -> None:
        self.boot_status = status
        if status != "Accepted":
            return
        # §4.2: on Accepted the station adjusts its heartbeat interval to the one given.
        interval = self._heartbeat_override_s if self._heartbeat_override_s else interval_s
        self.config.set("HeartbeatInterval", str(interval))
        self._set_heartbeat_interval(interval)
        if not self.registered:
            self._registered.set()
            self.stats.booted += 1

    def _set_heartbeat_interval(self, interval_s: int) -> None:
        self.heartbeat_interval_s = interval_s
        self._heartbeat_wakeup.set()

    async def _send_status(self, connector_id: int, *, before_boot: bool = False) -> None:
        connector = None if connector_id == 0 else self._connector(connector_id)
        status = self.station_status if connector is None else connector.status
        await self._call(
            call.StatusNotification(
                connector_id=connector_id,
                error_code="NoError",
                status=str(status),
                timestamp=iso(utc_now()),
            ),
            before_boot=before_boot,
        )

    async def _set_status(self, connector: Connector, status: ConnectorStatus) -> None:
        if connector.status is status:
            return
        connector.status = status
        await self._send_status(connector.connector_id)

    async def _set_station_status(self, status: ConnectorStatus) -> None:
        if self.station_status is status:
            return
        self.station_status = status
        await self._send_status(0)

    async def _send_meter_values(
        self, connector: Connector, context: str, measurands: tuple[str, ...], *, before_boot: bool = False
    ) -> MeterSample:
        if connector.session is not None:
            self._advance(connector)
        sample = MeterSample(utc_now(), context, measurands, connector.readings(self.rng))
        if context == "Sample.Periodic":
            connector.last_sample_register_wh = connector.meter_register_wh
        session = connector.session
        transaction_id = session.transaction_id if session is not None else None
        if measurands:
            await self._call(
                call.MeterValues(
                    connector_id=connector.connector_id,
                    meter_value=[meter_value(sample)],
                    transaction_id=int(transaction_id) if transaction_id is not None else None,
                ),
                # Transaction meter values are transaction-related messages (§3.7).
                transactional=transaction_id is not None and not before_boot,
                before_boot=before_boot,
            )
        return sample

    def _security_event(self, event: str, tech_info: str | None, *, send: bool = False) -> None:
        """Log a security event; push it to the CSMS when ``send`` (the critical ones)."""
        self.security_log.append((utc_now(), event, tech_info))
        if send:
            self._spawn(self._send_security_event(event, tech_info))

    async def _send_security_event(self, event: str, tech_info: str | None) -> None:
        await self._call(
            call.SecurityEventNotification(type=event, timestamp=iso(utc_now()), tech_info=tech_info),
            transactional=True,
        )

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
            await self._call(call.Heartbeat())

    async def _aligned_loop(self) -> None:
        """Clock-aligned meter values (1.6 §3.16.2), every ClockAlignedDataInterval from
        midnight; 0 sends none."""
        while True:
            self._aligned_wakeup.clear()
            interval_s = self.config.get_int("ClockAlignedDataInterval", 0)
            if interval_s <= 0:
                await self._aligned_wakeup.wait()
                continue
            now = utc_now()
            midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
            elapsed_s = (now - midnight).total_seconds()
            wait_s = interval_s - (elapsed_s % interval_s)
            try:
                await asyncio.wait_for(self._aligned_wakeup.wait(), wait_s)
                continue
            except TimeoutError:
                pass
            aligned = tuple(self.config.get_list("MeterValuesAlignedData"))
            stop_aligned = tuple(self.config.get_list("StopTxnAlignedData"))
            for connector in self.connectors.values():
                sample = await self._send_meter_values(connector, "Sample.Clock", aligned)
                session = connector.session
                if session is not None and session.transaction_id is not None and stop_aligned:
                    session.samples.append(
                        MeterSample(sample.timestamp, "Sample.Clock", stop_aligned, sample.readings)
                    )

    def _config_changed(self, name: str, value: str) -> None:
        if name == "HeartbeatInterval":
            self._set_heartbeat_interval(int(value))
        elif name == "ClockAlignedDataInterval":
            self._aligned_wakeup.set()
        elif name in ("AuthorizationKey", "SecurityProfile"):
            self._security_event("ReconfigurationOfSecurityParameters", name)

    # --- connectors and sessions --------------------------------------------------------------

    def _connector(self, connector_id: int) -> Connector:
        try:
            return self.connectors[connector_id]
        except KeyError:
            raise SessionError(f"no connector {connector_id}") from None

    def _connector_free(self, connector: Connector, id_tag: str) -> bool:
        if connector.busy or not (connector.operative and self.station_operative):
            return False
        if connector.status not in (ConnectorStatus.AVAILABLE, ConnectorStatus.RESERVED):
            return False
        return connector.reservation is None or connector.reservation.admits(id_tag)

    def _claim(
        self,
        connector: Connector,
        id_tag: str,
        ev: ElectricVehicle | None,
        max_duration_s: float | None,
        stop_when_full: bool,
        *,
        remote: bool,
    ) -> Session:
        """Take the connector for a new session at once, so nothing else can start there."""
        now = time.monotonic()
        session = Session(
            connector_id=connector.connector_id,
            id_tag=id_tag,
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
        self._controls[connector.connector_id] = _SessionControl(asyncio.Event(), asyncio.Event())
        return session

    def _release(self, connector: Connector, session: Session) -> None:
        if connector.session is session:
            connector.session = None
        control = self._controls.pop(connector.connector_id, None)
        if control is not None:
            control.finished.set()

    async def _start_session(
        self, connector: Connector, session: Session, profile: Mapping[str, Any] | None
    ) -> int:
        started = False
        try:
            await self._set_status(connector, ConnectorStatus.PREPARING)
            authorize_first = not session.remote or self.config.get_bool("AuthorizeRemoteTxRequests", True)
            entry = await self._authorize(session.id_tag) if authorize_first else None
            if authorize_first and (entry is None or entry.status is not AuthStatus.ACCEPTED):
                self.stats.auth_rejected += 1
                raise SessionError(
                    f"idTag {session.id_tag} refused: {entry.status if entry else 'no answer'}"
                )
            reservation = connector.reservation
            parent = entry.parent_id_tag if entry is not None else None
            if reservation is not None and not reservation.admits(session.id_tag, parent):
                raise SessionError(f"connector {connector.connector_id} is reserved")
            now = time.monotonic()
            session.started_at = utc_now()
            session.started_monotonic = session.last_advance_monotonic = now
            session.meter_start_wh = round(connector.meter_register_wh)
            session.reservation_id = reservation.reservation_id if reservation else None
            result = await self._call(
                call.StartTransaction(
                    connector_id=connector.connector_id,
                    id_tag=session.id_tag,
                    meter_start=session.meter_start_wh,
                    timestamp=iso(session.started_at),
                    reservation_id=session.reservation_id,
                ),
                transactional=True,
            )
            if result is None:
                raise SessionError("StartTransaction was not answered")
            session.transaction_id = str(result.transaction_id)
            started = True
            self.stats.active_sessions += 1
            if reservation is not None:
                # §5.13: a transaction for the reserved idTag terminates the reservation.
                self._drop_reservation(reservation)
            info = result.id_tag_info
            self._remember_authorization(session.id_tag, info)
            if info.get("status") != "Accepted":
                # §3.5.4: stop (StopTransactionOnInvalidId) or only stop the energy.
                session.deauthorized = True
            if profile is not None:
                # §5.16.2: the profile of a RemoteStartTransaction applies to this transaction.
                with contextlib.suppress(KeyError, ValueError, TypeError):
                    self.profiles.install(
                        profile_from_v16(profile, connector.connector_id, utc_now()),
                        TransactionContext(session.transaction_id, session.started_at),
                    )
            session.offer(self._offer_for(connector))
            await self._set_status(connector, self._charging_status(session))
            begin = await self._send_meter_values(
                connector,
                "Transaction.Begin",
                tuple(self.config.get_list("MeterValuesSampledData")),
            )
            stop_sampled = tuple(self.config.get_list("StopTxnSampledData"))
            if stop_sampled:
                session.samples.append(
                    MeterSample(begin.timestamp, begin.context, stop_sampled, begin.readings)
                )
            self._session_tasks[connector.connector_id] = asyncio.create_task(
                self._session_loop(connector, session),
                name=f"{self.station_id}-session-{connector.connector_id}",
            )
            return int(session.transaction_id)
        except BaseException:
            if not started:
                self._release(connector, session)
                if not self._closing:
                    with contextlib.suppress(Exception):
                        await self._set_status(connector, self._idle_status(connector))
            raise

    async def _session_loop(self, connector: Connector, session: Session) -> None:
        control = self._controls[connector.connector_id]
        if session.deauthorized and self.config.get_bool("StopTransactionOnInvalidId", True):
            control.reason = StopReason.DE_AUTHORIZED
            control.stop.set()
        planned_end = (
            session.started_monotonic + self.planner.wall(session.max_duration_s)
            if session.max_duration_s is not None
            else None
        )
        dwell_end: float | None = None
        last_sample = time.monotonic()
        while not control.stop.is_set():
            interval_s = self.config.get_int("MeterValueSampleInterval", 10)
            # With sampling off (0) the EV still charges; it is looked at every 10 s.
            next_sample = last_sample + (interval_s if interval_s > 0 else 10.0)
            wake = min(t for t in (next_sample, planned_end, dwell_end) if t is not None)
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
            session.offer(self._offer_for(connector))
            await self._set_status(connector, self._charging_status(session))
            if now >= next_sample:
                last_sample = now
                if interval_s > 0:
                    sample = await self._send_meter_values(
                        connector,
                        "Sample.Periodic",
                        tuple(self.config.get_list("MeterValuesSampledData")),
                    )
                    stop_sampled = tuple(self.config.get_list("StopTxnSampledData"))
                    if stop_sampled:
                        session.samples.append(
                            MeterSample(sample.timestamp, sample.context, stop_sampled, sample.readings)
                        )
        if control.abandon:
            return
        await self._finish_session(connector, session, control.reason)

    async def _finish_session(self, connector: Connector, session: Session, reason: StopReason) -> None:
        try:
            self._advance(connector)
            session.offer(0.0)
            stop_sampled = tuple(self.config.get_list("StopTxnSampledData"))
            end = MeterSample(utc_now(), "Transaction.End", stop_sampled, connector.readings(self.rng))
            # §3.16.5: with StopTxnSampledData and StopTxnAlignedData empty, no meter values.
            samples = [*session.samples, end] if stop_sampled or session.samples else []
            transaction_data = [meter_value(s) for s in samples if s.measurands] or None
            await self._call(
                call.StopTransaction(
                    meter_stop=round(connector.meter_register_wh),
                    timestamp=iso(end.timestamp),
                    transaction_id=int(session.transaction_id or 0),
                    reason=str(reason),
                    # §4.10: the idTag "MAY be omitted when the Charge Point itself needs to stop".
                    id_tag=session.id_tag if reason is StopReason.LOCAL else None,
                    transaction_data=transaction_data,
                ),
                transactional=True,
            )
        finally:
            self.stats.active_sessions -= 1
            self.stats.sessions_completed += 1
            self.profiles.end_transaction(connector.connector_id)
            self._session_tasks.pop(connector.connector_id, None)
            if connector.session is session:
                connector.session = None
        # The session holds the connector (its control) until the cable is out.
        try:
            self._refresh_offers()
            if reason in (StopReason.SOFT_RESET, StopReason.HARD_RESET, StopReason.REBOOT):
                return  # the reboot announces the connectors afresh
            if reason is not StopReason.EV_DISCONNECTED:
                # Finishing: the transaction is over but the cable is still plugged in.
                await self._set_status(connector, ConnectorStatus.FINISHING)
                await asyncio.sleep(self.timings.unplug_s)
            if connector.scheduled_operative is not None:
                connector.operative = connector.scheduled_operative
                connector.scheduled_operative = None
            await self._set_status(connector, self._idle_status(connector))
        finally:
            self._release(connector, session)

    async def _auto_sessions(self, connector_id: int, max_sessions: int | None) -> None:
        connector = self.connectors[connector_id]
        done = 0
        # The first EV arrives within seconds, so that a run shows sessions at once; spread out
        # so that a thousand stations do not all authorize in the same instant.
        await asyncio.sleep(self.rng.uniform(0.0, 5.0))
        while max_sessions is None or done < max_sessions:
            await self._registered.wait()
            await self._online.wait()
            if not self._connector_free(connector, self.id_tag):
                await asyncio.sleep(1.0)
                continue
            session = self._claim(
                connector,
                self.id_tag,
                None,
                self.planner.session_duration_s(),
                True,
                remote=False,
            )
            done += 1
            try:
                await self._start_session(connector, session, profile=None)
            except SessionError as exc:
                LOGGER.info("%s: session on connector %d: %s", self.station_id, connector_id, exc)
            else:
                await self.wait_session_end(connector_id)
            if max_sessions is None or done < max_sessions:
                await asyncio.sleep(self.planner.wall(self.planner.idle_pause_s()))

    def _idle_status(self, connector: Connector) -> ConnectorStatus:
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
        """Re-apply the limits after a profile change; return connectors whose status changes."""
        changed = []
        for connector in self.connectors.values():
            session = connector.session
            if session is None or session.transaction_id is None:
                continue
            self._advance(connector)
            session.offer(self._offer_for(connector))
            if self._charging_status(session) is not connector.status:
                changed.append(connector)
        return changed

    async def _announce_offers(self) -> None:
        for connector in self._refresh_offers():
            session = connector.session
            if session is not None:
                await self._set_status(connector, self._charging_status(session))

    # --- authorization ------------------------------------------------------------------------

    async def _authorize(self, id_tag: str) -> AuthEntry | None:
        """Local list, cache and Authorize.req as 1.6 §3.5 arranges them."""
        now = utc_now()
        local = self.local_list.lookup(id_tag) if self.config.get_bool("LocalAuthListEnabled", True) else None
        cached = (
            self.auth_cache.get(id_tag) if self.config.get_bool("AuthorizationCacheEnabled", True) else None
        )
        known = local or cached
        if not self.connected:
            if known is not None and self.config.get_bool("LocalAuthorizeOffline", True):
                return known if known.valid_at(now) else AuthEntry(AuthStatus.INVALID)
            if known is None and self.config.get_bool("AllowOfflineTxForUnknownId", False):
                return AuthEntry(AuthStatus.ACCEPTED)
            return None
        if known is not None and known.valid_at(now) and self.config.get_bool("LocalPreAuthorize", False):
            return known
        result = await self._call(call.Authorize(id_tag=id_tag))
        if result is None:
            return None
        return self._remember_authorization(id_tag, result.id_tag_info)

    def _remember_authorization(self, id_tag: str, info: Mapping[str, Any]) -> AuthEntry:
        entry = _auth_entry(info)
        # §3.5.3: idTags in the Local Authorization List are not cached.
        if self.config.get_bool("AuthorizationCacheEnabled", True) and (
            self.local_list.lookup(id_tag) is None
        ):
            self.auth_cache[id_tag] = entry
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
        connector = self.connectors[reservation.connector_id]
        if not connector.busy:
            # §5.13: "make the connector available" and send a status notification.
            await self._set_status(connector, self._idle_status(connector))

    # --- reboot -------------------------------------------------------------------------------

    async def _reboot(self, hard: bool, reason: str = "ResetOrReboot") -> None:
        """Reset (1.6 §5.14): a soft reset stops transactions first; a hard one drops them and
        sends their StopTransaction after the next accepted boot."""
        stop_reason = StopReason.HARD_RESET if hard else StopReason.SOFT_RESET
        if self._reconnector is not None and self._reconnector is not asyncio.current_task():
            self._reconnector.cancel()
        dropped: list[tuple[int, Session]] = []
        for connector_id, control in list(self._controls.items()):
            connector = self.connectors[connector_id]
            session = connector.session
            control.reason = stop_reason
            if hard and session is not None and session.transaction_id is not None:
                control.abandon = True
                self._advance(connector)
                dropped.append((connector_id, session))
            control.stop.set()
        for control in list(self._controls.values()):
            if not control.abandon:
                await control.finished.wait()
        for connector_id, task in list(self._session_tasks.items()):
            if self._controls.get(connector_id) is not None and self._controls[connector_id].abandon:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
                self._session_tasks.pop(connector_id, None)
        for connector_id, session in dropped:
            self.stats.active_sessions -= 1
            self.stats.sessions_completed += 1
            self.profiles.end_transaction(connector_id)
            self._release(self.connectors[connector_id], session)
        self._abandoned.extend(dropped)
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
        self.station_status = (
            ConnectorStatus.AVAILABLE if self.station_operative else ConnectorStatus.UNAVAILABLE
        )
        await self._connect_with_retry()
        await self._after_connect()
        self._security_event(reason, None, send=True)

    async def _stop_abandoned(self) -> None:
        abandoned, self._abandoned = self._abandoned, []
        for connector_id, session in abandoned:
            await self._call(
                call.StopTransaction(
                    meter_stop=round(session.meter_start_wh + session.energy_wh),
                    timestamp=iso(utc_now()),
                    transaction_id=int(session.transaction_id or 0),
                    reason=str(StopReason.HARD_RESET),
                ),
                transactional=True,
            )
            LOGGER.info("%s: stopped transaction on %d after reboot", self.station_id, connector_id)

    async def _reconnect_with_new_credentials(self) -> None:
        """Whitepaper A01/A05: disconnect, then connect with the new key or profile."""
        await self._go_offline()
        await self._connect_with_retry()
        await self._after_connect()

    # --- firmware, diagnostics and logs -------------------------------------------------------

    def _firmware_busy(self) -> bool:
        return self._firmware_task is not None and not self._firmware_task.done()

    async def _sleep_until(self, moment: datetime | None) -> None:
        if moment is not None:
            await asyncio.sleep(max(0.0, (moment - utc_now()).total_seconds()))

    async def _wait_for_no_transactions(self) -> None:
        # A session holds its connector from plug-in to unplugging (``_controls``).
        while self._controls:
            await asyncio.gather(*(c.finished.wait() for c in list(self._controls.values())))

    async def _firmware_status(self, status: str) -> None:
        self.firmware_status = status
        await self._call(call.FirmwareStatusNotification(status=status))

    async def _update_firmware(self, location: str, retrieve_at: datetime) -> None:
        """1.6 §5.19: Downloading, Downloaded, Installing, reboot, Installed."""
        await self._sleep_until(retrieve_at)
        await self._firmware_status("Downloading")
        await asyncio.sleep(self.timings.firmware_step_s)
        if "download-fail" in location:
            await self._firmware_status("DownloadFailed")
            return
        await self._firmware_status("Downloaded")
        await self._wait_for_no_transactions()
        await self._firmware_status("Installing")
        await asyncio.sleep(self.timings.firmware_step_s)
        if "install-fail" in location:
            await self._firmware_status("InstallationFailed")
            return
        self.firmware_version = _firmware_name(location)
        await self._reboot(hard=False, reason="FirmwareUpdated")
        await self._firmware_status("Installed")

    async def _signed_firmware_status(self, status: str, request_id: int) -> None:
        self.signed_firmware_status = status
        await self._call(call.SignedFirmwareStatusNotification(status=status, request_id=request_id))

    async def _signed_update_firmware(self, request_id: int, firmware: Mapping[str, Any]) -> None:
        """Whitepaper L01: each new state is reported with the request's requestId."""
        location = str(firmware["location"])
        retrieve_at = parse_time(firmware["retrieve_date_time"])
        install_at = parse_time(firmware["install_date_time"]) if firmware.get("install_date_time") else None
        if retrieve_at > utc_now():
            await self._signed_firmware_status("DownloadScheduled", request_id)  # L01.FR.13
            await self._sleep_until(retrieve_at)
        await self._signed_firmware_status("Downloading", request_id)
        await asyncio.sleep(self.timings.firmware_step_s)
        if "download-fail" in location:
            await self._signed_firmware_status("DownloadFailed", request_id)
            return
        await self._signed_firmware_status("Downloaded", request_id)
        if not _valid_signature(str(firmware.get("signature", ""))):
            await self._signed_firmware_status("InvalidSignature", request_id)
            self._security_event("InvalidFirmwareSignature", None, send=True)  # L01.FR.03
            return
        await self._signed_firmware_status("SignatureVerified", request_id)
        if install_at is not None and install_at > utc_now():
            await self._signed_firmware_status("InstallScheduled", request_id)  # L01.FR.16
            await self._sleep_until(install_at)
        await self._wait_for_no_transactions()  # L01.FR.06
        await self._signed_firmware_status("Installing", request_id)
        await asyncio.sleep(self.timings.firmware_step_s)
        if "install-fail" in location:
            await self._signed_firmware_status("InstallationFailed", request_id)
            return
        await self._signed_firmware_status("InstallRebooting", request_id)  # L01.FR.15
        self.firmware_version = _firmware_name(location)
        await self._reboot(hard=False, reason="FirmwareUpdated")
        await self._signed_firmware_status("Installed", request_id)

    async def _upload_diagnostics(self, location: str) -> None:
        """1.6 §5.9: Uploading, then Uploaded (or UploadFailed)."""
        self.diagnostics_status = "Uploading"
        await self._call(call.DiagnosticsStatusNotification(status="Uploading"))
        await asyncio.sleep(self.timings.upload_step_s)
        self.diagnostics_status = "UploadFailed" if "upload-fail" in location else "Uploaded"
        await self._call(call.DiagnosticsStatusNotification(status=self.diagnostics_status))
        self.diagnostics_status = "Idle"

    async def _upload_log(self, location: str, request_id: int) -> None:
        """Whitepaper N01: Uploading, then Uploaded (or UploadFailure), with the requestId."""
        self.log_status = "Uploading"
        await self._call(call.LogStatusNotification(status="Uploading", request_id=request_id))
        await asyncio.sleep(self.timings.upload_step_s)
        final = "UploadFailure" if "upload-fail" in location else "Uploaded"
        self.log_status = final
        await self._call(call.LogStatusNotification(status=final, request_id=request_id))
        self.log_status = "Idle"

    # --- what TriggerMessage asks for ---------------------------------------------------------

    async def _send_triggered(self, message: str, connector_id: int | None, extended: bool) -> None:
        """Send the requested message (1.6 §5.17, whitepaper ExtendedTriggerMessage); while
        Pending these are the only requests a station may send (§4.2)."""
        if message == "BootNotification":
            result = await self._call(self._boot_payload(), before_boot=True)
            if result is not None:
                self._boot_answered(str(result.status), int(result.interval))
        elif message == "Heartbeat":
            await self._call(call.Heartbeat(), before_boot=True)
        elif message == "StatusNotification":
            targets = [connector_id] if connector_id is not None else [0, *self.connectors]
            for target in targets:
                await self._send_status(target, before_boot=True)
        elif message == "MeterValues":
            # §5.17: "the most recent measurements for all measurands configured in
            # MeterValuesSampledData"; no connectorId means every connector.
            measurands = tuple(self.config.get_list("MeterValuesSampledData"))
            ids = [connector_id] if connector_id else list(self.connectors)
            for target in ids:
                await self._send_meter_values(
                    self.connectors[target], "Trigger", measurands, before_boot=True
                )
        elif message == "DiagnosticsStatusNotification":
            # §4.4: Idle only when asked and not uploading.
            await self._call(
                call.DiagnosticsStatusNotification(status=self.diagnostics_status),
                before_boot=True,
            )
        elif message == "FirmwareStatusNotification" and extended:
            # L01.FR.28/29: the last status sent, or Idle after Installed.
            status = self.signed_firmware_status
            if status == "Installed":
                status = "Idle"
            await self._call(
                call.SignedFirmwareStatusNotification(
                    status=status,
                    request_id=self._signed_firmware_request_id if status != "Idle" else None,
                ),
                before_boot=True,
            )
        elif message == "FirmwareStatusNotification":
            # §4.5: Idle only when asked and not busy with a firmware update.
            status = self.firmware_status if self._firmware_busy() else "Idle"
            await self._call(call.FirmwareStatusNotification(status=status), before_boot=True)
        elif message == "LogStatusNotification":
            # N01.FR.12: no requestId when no upload is going on.
            uploading = self.log_status == "Uploading"
            await self._call(
                call.LogStatusNotification(
                    status=self.log_status if uploading else "Idle",
                    request_id=self._log_request_id if uploading else None,
                ),
                before_boot=True,
            )
        elif message == "SignChargePointCertificate":
            # A02.FR.02/03: a new key pair, its CSR with O = CpoName (A02.FR.13).
            key = await asyncio.to_thread(generate_rsa_key)
            csr = build_csr(self.station_id, self.config.get("CpoName") or self.vendor, key)
            await self._call(call.SignCertificate(csr=csr), before_boot=True)

    # --- CSMS-initiated messages (1.6 §5 and the security whitepaper §5) ----------------------

    @_handles(Action.cancel_reservation)
    def _on_cancel_reservation(self, reservation_id: int, *, call_unique_id: str, **_: Any) -> Any:
        reservation = self.reservations.get(reservation_id)
        if reservation is None:
            return call_result.CancelReservation(status="Rejected")
        self._drop_reservation(reservation)
        connector = self.connectors[reservation.connector_id]
        if not connector.busy:
            self._after_reply(
                call_unique_id,
                lambda: self._set_status(connector, self._idle_status(connector)),
            )
        return call_result.CancelReservation(status="Accepted")

    @_handles(Action.certificate_signed)
    def _on_certificate_signed(self, certificate_chain: str, **_: Any) -> Any:
        max_chars = self.config.get_int("CertificateSignedMaxChainSize", 10_000)
        if len(certificate_chain) <= max_chars and self.certificates.accept_signed_chain(certificate_chain):
            return call_result.CertificateSigned(status="Accepted")
        # A02.FR.07: discard it and raise InvalidChargePointCertificate.
        self._security_event("InvalidChargePointCertificate", None)
        return call_result.CertificateSigned(status="Rejected")

    @_handles(Action.change_availability)
    def _on_change_availability(self, connector_id: int, type: str, *, call_unique_id: str, **_: Any) -> Any:
        if connector_id != 0 and connector_id not in self.connectors:
            return call_result.ChangeAvailability(status="Rejected")
        operative = type == "Operative"
        targets = list(self.connectors.values()) if connector_id == 0 else [self.connectors[connector_id]]
        scheduled = False
        for connector in targets:
            if connector.busy:
                # §5.2: during a transaction the change is Scheduled for after it.
                connector.scheduled_operative = operative
                scheduled = True
            else:
                connector.operative = operative
                connector.scheduled_operative = None
                if not operative and connector.reservation is not None:
                    # §5.13: a reservation ends when its connector becomes Unavailable.
                    self._drop_reservation(connector.reservation)
        if connector_id == 0:
            self.station_operative = operative

        async def announce() -> None:
            if connector_id == 0:
                await self._set_station_status(
                    ConnectorStatus.AVAILABLE if operative else ConnectorStatus.UNAVAILABLE
                )
            for connector in targets:
                if not connector.busy and connector.status not in (
                    ConnectorStatus.FINISHING,
                    ConnectorStatus.PREPARING,
                ):
                    await self._set_status(connector, self._idle_status(connector))

        self._after_reply(call_unique_id, announce)
        return call_result.ChangeAvailability(status="Scheduled" if scheduled else "Accepted")

    @_handles(Action.change_configuration)
    def _on_change_configuration(self, key: str, value: str, *, call_unique_id: str, **_: Any) -> Any:
        status = self.config.change(key, value)
        if status is ChangeStatus.ACCEPTED and key.lower() in ("authorizationkey", "securityprofile"):
            self._after_reply(call_unique_id, self._reconnect_with_new_credentials)
        return call_result.ChangeConfiguration(status=str(status))

    @_handles(Action.clear_cache)
    def _on_clear_cache(self, **_: Any) -> Any:
        self.auth_cache.clear()
        return call_result.ClearCache(status="Accepted")

    @_handles(Action.clear_charging_profile)
    def _on_clear_charging_profile(
        self,
        id: int | None = None,
        connector_id: int | None = None,
        charging_profile_purpose: str | None = None,
        stack_level: int | None = None,
        *,
        call_unique_id: str,
        **_: Any,
    ) -> Any:
        removed = self.profiles.clear(
            profile_id=id,
            connector_id=connector_id,
            purpose=_PURPOSES[charging_profile_purpose] if charging_profile_purpose else None,
            stack_level=stack_level,
        )
        if not removed:
            return call_result.ClearChargingProfile(status="Unknown")
        self._after_reply(call_unique_id, self._announce_offers)
        return call_result.ClearChargingProfile(status="Accepted")

    @_handles(Action.data_transfer)
    def _on_data_transfer(
        self, vendor_id: str, message_id: str | None = None, data: str | None = None, **_: Any
    ) -> Any:
        # §4.3: unknown vendor → UnknownVendorId, unknown message → UnknownMessageId.
        if vendor_id != DATA_TRANSFER_VENDOR_ID:
            return call_result.DataTransfer(status="UnknownVendorId")
        if message_id not in (None, "Echo"):
            return call_result.DataTransfer(status="UnknownMessageId")
        return call_result.DataTransfer(status="Accepted", data=data)

    @_handles(Action.delete_certificate)
    def _on_delete_certificate(self, certificate_hash_data: Mapping[str, Any], **_: Any) -> Any:
        wanted = CertificateHash(
            hash_algorithm=str(certificate_hash_data["hash_algorithm"]),
            issuer_name_hash=str(certificate_hash_data["issuer_name_hash"]),
            issuer_key_hash=str(certificate_hash_data["issuer_key_hash"]),
            serial_number=str(certificate_hash_data["serial_number"]),
        )
        return call_result.DeleteCertificate(status=self.certificates.delete(wanted))

    @_handles(Action.extended_trigger_message)
    def _on_extended_trigger_message(
        self,
        requested_message: str,
        connector_id: int | None = None,
        *,
        call_unique_id: str,
        **_: Any,
    ) -> Any:
        if connector_id is not None and connector_id != 0 and connector_id not in self.connectors:
            return call_result.ExtendedTriggerMessage(status="Rejected")
        self._after_reply(call_unique_id, lambda: self._send_triggered(requested_message, connector_id, True))
        return call_result.ExtendedTriggerMessage(status="Accepted")

    @_handles(Action.get_composite_schedule)
    def _on_get_composite_schedule(
        self,
        connector_id: int,
        duration: int,
        charging_rate_unit: str | None = None,
        **_: Any,
    ) -> Any:
        if (connector_id != 0 and connector_id not in self.connectors) or duration <= 0:
            return call_result.GetCompositeSchedule(status="Rejected")
        # An AC station reports in amperes unless asked otherwise.
        unit = RateUnit(charging_rate_unit) if charging_rate_unit else RateUnit.AMPERE
        start = utc_now()
        transaction = self._transaction_context(self.connectors[connector_id]) if connector_id else None
        periods = self.profiles.composite_schedule(
            connector_id,
            start,
            duration,
            unit,
            transaction,
            sharing_connectors=max(1, self._charging_connectors()),
        )
        return call_result.GetCompositeSchedule(
            status="Accepted",
            connector_id=connector_id,
            schedule_start=iso(start),
            charging_schedule={
                "duration": duration,
                "start_schedule": iso(start),
                "charging_rate_unit": str(unit),
                "charging_schedule_period": [
                    {
                        "start_period": p.start_period_s,
                        "limit": p.limit,
                        **({"number_phases": p.number_phases} if p.number_phases else {}),
                    }
                    for p in periods
                ],
            },
        )

    @_handles(Action.get_configuration)
    def _on_get_configuration(self, key: list[str] | None = None, **_: Any) -> Any:
        known, unknown = self.config.read(key)
        return call_result.GetConfiguration(
            configuration_key=[{"key": kv.key, "readonly": kv.readonly, "value": kv.value} for kv in known],
            unknown_key=unknown or None,
        )

    @_handles(Action.get_diagnostics)
    def _on_get_diagnostics(self, location: str, *, call_unique_id: str, **_: Any) -> Any:
        file_name = f"diagnostics-{self.station_id}-{utc_now():%Y%m%dT%H%M%SZ}.log"[:255]
        self._after_reply(call_unique_id, lambda: self._upload_diagnostics(location))
        return call_result.GetDiagnostics(file_name=file_name)

    @_handles(Action.get_installed_certificate_ids)
    def _on_get_installed_certificate_ids(self, certificate_type: str, **_: Any) -> Any:
        hashes = self.certificates.hashes(certificate_type)
        if not hashes:
            return call_result.GetInstalledCertificateIds(status="NotFound")  # M03.FR.02
        return call_result.GetInstalledCertificateIds(
            status="Accepted",
            certificate_hash_data=[
                {
                    "hash_algorithm": h.hash_algorithm,
                    "issuer_name_hash": h.issuer_name_hash,
                    "issuer_key_hash": h.issuer_key_hash,
                    "serial_number": h.serial_number,
                }
                for h in hashes
            ],
        )

    @_handles(Action.get_local_list_version)
    def _on_get_local_list_version(self, **_: Any) -> Any:
        return call_result.GetLocalListVersion(list_version=self.local_list.version)

    @_handles(Action.get_log)
    def _on_get_log(
        self,
        log: Mapping[str, Any],
        log_type: str,
        request_id: int,
        *,
        call_unique_id: str,
        **_: Any,
    ) -> Any:
        # N01.FR.11: a new request cancels an upload in progress: AcceptedCanceled.
        canceled = self._log_task is not None and not self._log_task.done()
        if canceled and self._log_task is not None:
            self._log_task.cancel()
        self._log_request_id = request_id
        location = str(log["remote_location"])

        async def upload() -> None:
            self._log_task = asyncio.current_task()
            await self._upload_log(location, request_id)

        self._after_reply(call_unique_id, upload)
        kind = "security" if log_type == "SecurityLog" else "diagnostics"
        return call_result.GetLog(
            status="AcceptedCanceled" if canceled else "Accepted",
            filename=f"{kind}-{self.station_id}-{request_id}.log"[:255],
        )

    @_handles(Action.install_certificate)
    def _on_install_certificate(self, certificate_type: str, certificate: str, **_: Any) -> Any:
        return call_result.InstallCertificate(status=self.certificates.install(certificate_type, certificate))

    @_handles(Action.remote_start_transaction)
    def _on_remote_start_transaction(
        self,
        id_tag: str,
        connector_id: int | None = None,
        charging_profile: Mapping[str, Any] | None = None,
        *,
        call_unique_id: str,
        **_: Any,
    ) -> Any:
        rejected = call_result.RemoteStartTransaction(status="Rejected")
        # §4.2: not while Pending.
        if not self.registered:
            return rejected
        # §5.16.2: a profile given here "MUST be set to TxProfile" (and carry no transactionId).
        if charging_profile is not None and (charging_profile.get("charging_profile_purpose") != "TxProfile"):
            return rejected
        if connector_id is None:
            candidates = [c for c in self.connectors.values() if self._connector_free(c, id_tag)]
        elif connector_id in self.connectors:
            connector = self.connectors[connector_id]
            candidates = [connector] if self._connector_free(connector, id_tag) else []
        else:
            candidates = []
        if not candidates:
            return rejected
        connector = candidates[0]
        duration = self.planner.session_duration_s() if self._auto_mode else None
        session = self._claim(connector, id_tag, None, duration, self._auto_mode, remote=True)

        async def start() -> None:
            with contextlib.suppress(SessionError):
                await self._start_session(connector, session, charging_profile)

        self._after_reply(call_unique_id, start)
        return call_result.RemoteStartTransaction(status="Accepted")

    @_handles(Action.remote_stop_transaction)
    def _on_remote_stop_transaction(self, transaction_id: int, **_: Any) -> Any:
        if self.registered:
            for connector_id, connector in self.connectors.items():
                session = connector.session
                control = self._controls.get(connector_id)
                if (
                    session is not None
                    and control is not None
                    and session.transaction_id == str(transaction_id)
                ):
                    # §5.12: equal to a local stop: StopTransaction, then unlock.
                    control.reason = StopReason.REMOTE
                    control.stop.set()
                    return call_result.RemoteStopTransaction(status="Accepted")
        return call_result.RemoteStopTransaction(status="Rejected")

    @_handles(Action.reserve_now)
    def _on_reserve_now(
        self,
        connector_id: int,
        expiry_date: str,
        id_tag: str,
        reservation_id: int,
        parent_id_tag: str | None = None,
        *,
        call_unique_id: str,
        **_: Any,
    ) -> Any:
        # §5.13 and 1.6 §9.3.1: connector 0 only with ReserveConnectorZeroSupported.
        if connector_id not in self.connectors:
            return call_result.ReserveNow(status="Rejected")
        try:
            expires_at = parse_time(expiry_date)
        except ValueError:
            return call_result.ReserveNow(status="Rejected")
        connector = self.connectors[connector_id]
        previous = self.reservations.get(reservation_id)
        if not (connector.operative and self.station_operative):
            return call_result.ReserveNow(status="Unavailable")
        if connector.status is ConnectorStatus.FAULTED:
            return call_result.ReserveNow(status="Faulted")
        held_by_other = connector.reservation is not None and connector.reservation is not previous
        if (
            connector.busy
            or held_by_other
            or connector.status
            not in (
                ConnectorStatus.AVAILABLE,
                ConnectorStatus.RESERVED,
            )
        ):
            return call_result.ReserveNow(status="Occupied")
        if expires_at <= utc_now():
            return call_result.ReserveNow(status="Rejected")
        if previous is not None:
            # "the Charge Point SHALL replace that reservation with the new reservation".
            self._drop_reservation(previous)
            old = self.connectors[previous.connector_id]
            if old is not connector and not old.busy:
                self._spawn(self._set_status(old, self._idle_status(old)))
        reservation = Reservation(reservation_id, connector_id, id_tag, expires_at, parent_id_tag)
        self.reservations[reservation_id] = reservation
        connector.reservation = reservation
        self._reservation_timers[reservation_id] = self._spawn(self._expire_reservation(reservation))
        self._after_reply(call_unique_id, lambda: self._set_status(connector, ConnectorStatus.RESERVED))
        return call_result.ReserveNow(status="Accepted")

    @_handles(Action.reset)
    def _on_reset(self, type: str, *, call_unique_id: str, **_: Any) -> Any:
        hard = type == "Hard"
        self._after_reply(call_unique_id, lambda: self._reboot(hard))
        return call_result.Reset(status="Accepted")

    @_handles(Action.send_local_list)
    def _on_send_local_list(
        self,
        list_version: int,
        update_type: str,
        local_authorization_list: list[Mapping[str, Any]] | None = None,
        **_: Any,
    ) -> Any:
        entries = local_authorization_list or []
        if len(entries) > self.config.get_int("SendLocalListMaxLength", 1000):
            return call_result.SendLocalList(status="Failed")
        changes = [
            (str(e["id_tag"]), _auth_entry(e["id_tag_info"]) if e.get("id_tag_info") else None)
            for e in entries
        ]
        status = self.local_list.update(list_version, update_type == "Full", changes)
        if status == "Accepted":
            for id_tag, _entry in changes:
                # §3.5.3: an idTag in the local list is not kept in the cache as well.
                self.auth_cache.pop(id_tag, None)
        return call_result.SendLocalList(status=status)

    @_handles(Action.set_charging_profile)
    def _on_set_charging_profile(
        self,
        connector_id: int,
        cs_charging_profiles: Mapping[str, Any],
        *,
        call_unique_id: str,
        **_: Any,
    ) -> Any:
        try:
            profile = profile_from_v16(cs_charging_profiles, connector_id, utc_now())
        except (KeyError, ValueError, TypeError):
            return call_result.SetChargingProfile(status="Rejected")
        connector = self.connectors.get(connector_id)
        transaction = self._transaction_context(connector) if connector is not None else None
        try:
            self.profiles.install(profile, transaction)
        except ProfileRejected as exc:
            LOGGER.info("%s: charging profile rejected: %s", self.station_id, exc)
            return call_result.SetChargingProfile(status="Rejected")
        self._after_reply(call_unique_id, self._announce_offers)
        return call_result.SetChargingProfile(status="Accepted")

    @_handles(Action.signed_update_firmware)
    def _on_signed_update_firmware(
        self, request_id: int, firmware: Mapping[str, Any], *, call_unique_id: str, **_: Any
    ) -> Any:
        try:
            blocks = pem_to_der(str(firmware["signing_certificate"]))
            if not blocks:
                raise CertificateError("no certificate")
            parse_certificate(blocks[0])
        except CertificateError:
            # L01.FR.24 and L01.FR.02.
            self._security_event("InvalidFirmwareSigningCertificate", None, send=True)
            return call_result.SignedUpdateFirmware(status="InvalidCertificate")
        # L01.FR.26: a new request cancels the update in progress: AcceptedCanceled.
        canceled = self._firmware_busy()
        if canceled and self._firmware_task is not None:
            self._firmware_task.cancel()
        self._signed_firmware_request_id = request_id

        async def update() -> None:
            self._firmware_task = asyncio.current_task()
            await self._signed_update_firmware(request_id, firmware)

        self._after_reply(call_unique_id, update)
        return call_result.SignedUpdateFirmware(status="AcceptedCanceled" if canceled else "Accepted")

    @_handles(Action.trigger_message)
    def _on_trigger_message(
        self,
        requested_message: str,
        connector_id: int | None = None,
        *,
        call_unique_id: str,
        **_: Any,
    ) -> Any:
        if connector_id is not None and connector_id != 0 and connector_id not in self.connectors:
            return call_result.TriggerMessage(status="Rejected")
        # §5.17: "first send the TriggerMessage response, before sending the requested message".
        self._after_reply(
            call_unique_id, lambda: self._send_triggered(requested_message, connector_id, False)
        )
        return call_result.TriggerMessage(status="Accepted")

    @_handles(Action.unlock_connector)
    def _on_unlock_connector(self, connector_id: int, **_: Any) -> Any:
        if connector_id not in self.connectors:
            return call_result.UnlockConnector(status="UnlockFailed")
        control = self._controls.get(connector_id)
        session = self.connectors[connector_id].session
        if control is not None and session is not None and session.transaction_id is not None:
            # §5.18: a transaction on the connector is finished first. The StopTransaction can
            # only follow this answer, as its reply arrives on the connection being read here.
            control.reason = StopReason.UNLOCK_COMMAND
            control.stop.set()
        return call_result.UnlockConnector(status="Unlocked")

    @_handles(Action.update_firmware)
    def _on_update_firmware(self, location: str, retrieve_date: str, *, call_unique_id: str, **_: Any) -> Any:
        # Whitepaper L01.FR.20 lets a station with signed firmware refuse this message; the
        # simulator supports both, so that a CSMS's plain 1.6 firmware flow can be tested.
        try:
            retrieve_at = parse_time(retrieve_date)
        except ValueError:
            retrieve_at = utc_now()
        if self._firmware_busy() and self._firmware_task is not None:
            self._firmware_task.cancel()

        async def update() -> None:
            self._firmware_task = asyncio.current_task()
            await self._update_firmware(location, retrieve_at)

        self._after_reply(call_unique_id, update)
        return call_result.UpdateFirmware()


def _auth_entry(info: Mapping[str, Any]) -> AuthEntry:
    expiry = info.get("expiry_date")
    try:
        status = AuthStatus(str(info.get("status")))
    except ValueError:
        status = AuthStatus.INVALID
    return AuthEntry(
        status=status,
        expires_at=parse_time(str(expiry)) if expiry else None,
        parent_id_tag=info.get("parent_id_tag"),
    )


def _firmware_name(location: str) -> str:
    """The firmware version after an update: the file name from the location, sans extension."""
    name = location.rstrip("/").rsplit("/", 1)[-1].split("?", 1)[0]
    stem = name.rsplit(".", 1)[0] if "." in name else name
    return (stem or "sim-updated")[:50]


def _valid_signature(signature: str) -> bool:
    """A simulated check: a non-empty base64 signature counts as verified."""
    if not signature:
        return False
    try:
        base64.b64decode(signature, validate=True)
    except ValueError:
        return False
    return True
