"""CPO side of OCPI commands and charging profiles: checks, OCPP execution, results pushed."""

from __future__ import annotations

import asyncio
import logging
import math
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, ValidationError

from volthub.api.errors import describe_validation_errors
from volthub.domain import commands as c
from volthub.domain.enums import ReservationStatus, TransactionStatus
from volthub.domain.errors import (
    Conflict,
    DomainError,
    InvalidInput,
    NotFound,
    StationError,
    StationTimeout,
    Unsupported,
)
from volthub.domain.model import JsonObject, Station, Transaction
from volthub.domain.roaming import RoamingAuthorization, RoamingObject
from volthub.ocpi import schemas as s
from volthub.ocpi.envelope import OcpiStatus, invalid
from volthub.ocpi.http import Caller
from volthub.ocpi.outbox import ABSOLUTE_URL
from volthub.services.ports import CommandOutcome
from volthub.storage.interface import Repositories

if TYPE_CHECKING:
    from volthub.ocpi.roaming import Roaming
    from volthub.wiring import Services

log = logging.getLogger("volthub.ocpi.commands")

# RoamingObject modules this file keeps: the eMSP's reservation id → ours (mod_commands
# §ReserveNow: the Sender's reservation_id "SHALL NOT be sent directly to a Charge Point"), and
# the last charging profile a partner set on a session (mod_charging_profiles §Flow: who set one).
RESERVATIONS = "reservations"
PROFILES = "chargingprofiles"
TOKENS = "tokens"
# OCPP chargingProfileId of the TxProfile set through OCPI on our transaction N: BASE + N, so a
# new PUT replaces the previous profile (same id) and never an operator's (small ids).
PROFILE_ID_BASE = 1_000_000_000
PROFILE_STACK_LEVEL = 1
# Seconds added to the station call timeout in CommandResponse.timeout: storing and delivering
# the result (one partner call).
DELIVERY_MARGIN_S = 15
STATION_PAGE = 500

# OCPP status words (1.6 and 2.x) → CommandResultType; anything else is FAILED.
STATION_RESULTS = {
    "Accepted": s.CommandResultType.ACCEPTED,
    "Unlocked": s.CommandResultType.ACCEPTED,
    "Rejected": s.CommandResultType.REJECTED,
    "Occupied": s.CommandResultType.EVSE_OCCUPIED,
    # 2.0.1 UnlockStatusEnumType: a transaction holds the cable, like an occupied EVSE.
    "OngoingAuthorizedTransaction": s.CommandResultType.EVSE_OCCUPIED,
    "Faulted": s.CommandResultType.EVSE_INOPERATIVE,
    "Unavailable": s.CommandResultType.EVSE_INOPERATIVE,
    "NotSupported": s.CommandResultType.NOT_SUPPORTED,
    "UnknownConnector": s.CommandResultType.REJECTED,
    "UnlockFailed": s.CommandResultType.FAILED,
}
# CALLERROR codes meaning the station does not implement the message at all.
NOT_IMPLEMENTED_ERRORS = {"NotImplemented", "NotSupported"}

M = TypeVar("M", bound=BaseModel)

# Background executions; a reference is kept until each ends (asyncio keeps only weak ones).
_running: set[asyncio.Task[None]] = set()


class Refusal(Exception):
    """A request answered at once (no station involved): a response type and an OCPI code."""

    def __init__(self, result: str, message: str, status: OcpiStatus = OcpiStatus.SUCCESS
                 ) -> None:
        super().__init__(message)
        self.result = result
        self.message = message
        self.status = status


@dataclass(slots=True, frozen=True)
class Answer:
    """The synchronous answer: OCPI status code and the response object (data)."""

    status: OcpiStatus
    data: JsonObject | None
    message: str | None = None


@dataclass(slots=True, frozen=True)
class ReplyTo:
    """Where an asynchronous result goes: the partner's response_url, to the requesting party."""

    partner_id: int
    url: str
    party: tuple[str, str] | None
    key: str


@dataclass(slots=True, frozen=True)
class Target:
    """A station of our location, and its EVSE when the request named one."""

    station_id: str
    evse_id: int | None
    evse_uid: str | None


def parse_body(model: type[M], body: Any) -> M:
    """Validate a request body; a bad one is OCPI 2001 (status_codes), via OcpiError."""
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        raise invalid(describe_validation_errors(list(exc.errors()))) from exc


def split_evse_uid(evse_uid: str) -> tuple[str, int] | None:
    """CONTRACT.md: EVSE uid is `{station_id}-{evse_id}`; station ids may hold '-' too."""
    station_id, dash, evse = evse_uid.rpartition("-")
    if not dash or not station_id or not evse.isdigit() or int(evse) < 1:
        return None
    return station_id, int(evse)


def display(message: str | None) -> list[s.DisplayText] | None:
    return [s.DisplayText(language="en", text=message[:512])] if message else None


def command_result(result: s.CommandResultType, message: str | None = None) -> JsonObject:
    body = s.CommandResult(result=result, message=display(message))
    return body.model_dump(mode="json", exclude_none=True)


def outcome_result(outcome: CommandOutcome) -> s.CommandResultType:
    return STATION_RESULTS.get(outcome.status or "", s.CommandResultType.FAILED)


def failure_result(exc: Exception) -> JsonObject:
    """A command the station never answered usefully, as a CommandResult."""
    if isinstance(exc, StationTimeout):
        # §CommandResultType TIMEOUT: "no response received from the Charge Point in a
        # reasonable time" (our call timeout).
        return command_result(s.CommandResultType.TIMEOUT, str(exc))
    if isinstance(exc, Unsupported) or (
            isinstance(exc, StationError) and exc.error_code in NOT_IMPLEMENTED_ERRORS):
        return command_result(s.CommandResultType.NOT_SUPPORTED, str(exc))
    if isinstance(exc, Conflict | NotFound | InvalidInput):
        # Refused by our own checks when it came to sending (token no longer authorized,
        # transaction ended meanwhile): the CPO's refusal, not a fault of the station.
        return command_result(s.CommandResultType.REJECTED, str(exc))
    message = str(exc) if isinstance(exc, DomainError) else "internal error"
    return command_result(s.CommandResultType.FAILED, message)


def profile_result(result: s.ChargingProfileResultType,
                   profile: s.ActiveChargingProfile | None = None) -> JsonObject:
    body: BaseModel
    if profile is not None:
        body = s.ActiveChargingProfileResult(result=result, profile=profile)
    else:
        body = s.ChargingProfileResult(result=result)
    return body.model_dump(mode="json", exclude_none=True)


def neutral_profile(txn: Transaction, profile: s.ChargingProfile) -> c.ChargingProfile:
    """An OCPI ChargingProfile as the session's TxProfile. OCPI §ChargingProfile class:
    without start_date_time it is "relative to start of charging" (OCPP Relative kind)."""
    periods = profile.charging_profile_period or []
    schedule = c.ChargingSchedule(
        charging_rate_unit=profile.charging_rate_unit.value,
        periods=[c.ChargingSchedulePeriod(start_period_s=p.start_period, limit=float(p.limit))
                 for p in periods],
        duration_s=profile.duration,
        start_schedule=profile.start_date_time,
        min_charging_rate=float(profile.min_charging_rate)
        if profile.min_charging_rate is not None else None,
    )
    return c.ChargingProfile(
        id=PROFILE_ID_BASE + txn.id % PROFILE_ID_BASE, stack_level=PROFILE_STACK_LEVEL,
        purpose="TxProfile", kind="Absolute" if profile.start_date_time else "Relative",
        transaction_id=txn.id, schedule=schedule)


def _one_decimal(value: Any) -> float:
    # OCPI §ChargingProfilePeriod limit: "Accepts at most one digit fraction".
    return round(float(value), 1)


def active_profile(response: JsonObject, now: datetime) -> s.ActiveChargingProfile | None:
    """The station's composite schedule (1.6 chargingSchedule / 2.x schedule) as OCPI's
    ActiveChargingProfile; None when the station sent none."""
    schedule = response.get("chargingSchedule") or response.get("schedule")
    if not isinstance(schedule, dict) or not schedule.get("chargingSchedulePeriod"):
        return None
    start = response.get("scheduleStart") or schedule.get("scheduleStart") \
        or schedule.get("startSchedule")
    start_at = s.parse_ocpi_datetime(start) if start else now
    minimum = schedule.get("minChargingRate")
    return s.ActiveChargingProfile.model_validate({
        "start_date_time": start_at,
        "charging_profile": {
            "start_date_time": start_at,
            "duration": schedule.get("duration"),
            "charging_rate_unit": schedule.get("chargingRateUnit"),
            "min_charging_rate": _one_decimal(minimum) if minimum is not None else None,
            "charging_profile_period": [
                {"start_period": int(p["startPeriod"]), "limit": _one_decimal(p["limit"])}
                for p in schedule["chargingSchedulePeriod"]],
        },
    })


def _settle(task: asyncio.Task[None]) -> None:
    _running.discard(task)
    if not task.cancelled() and task.exception() is not None:
        log.error("OCPI command execution failed", exc_info=task.exception())


class CpoCommands:
    """Receiver of the commands and chargingprofiles modules for our stations."""

    def __init__(self, roaming: Roaming, call_timeout_s: float) -> None:
        self.roaming = roaming
        self.services: Services = roaming.require_services()
        self.timeout_s = math.ceil(call_timeout_s) + DELIVERY_MARGIN_S

    # -- shared --------------------------------------------------------------------------
    @staticmethod
    def sender(caller: Caller) -> tuple[str, str]:
        """The requesting party: OCPI-from headers, else the platform's (first) party."""
        if caller.from_party is not None:
            return caller.from_party
        return (caller.partner.country_code or "", caller.partner.party_id or "")

    def reply_to(self, caller: Caller, url: str, kind: str) -> ReplyTo:
        return ReplyTo(caller.partner.id, url, self.sender(caller),
                       f"{kind}/{uuid.uuid4().hex}")

    def spawn(self, reply: ReplyTo, work: Callable[[], Awaitable[JsonObject]],
              on_error: Callable[[Exception], JsonObject]) -> None:
        """Run `work` after the answer went out; its result is pushed through the outbox
        (stored, retried) to the response_url."""
        task = asyncio.create_task(self._execute(reply, work, on_error))
        _running.add(task)
        task.add_done_callback(_settle)

    async def _execute(self, reply: ReplyTo, work: Callable[[], Awaitable[JsonObject]],
                       on_error: Callable[[Exception], JsonObject]) -> None:
        try:
            body = await work()
        except Exception as exc:
            if not isinstance(exc, DomainError):
                log.exception("OCPI command failed", extra={"reply_to": reply.url})
            body = on_error(exc)
        await self.roaming.outbox.push(reply.partner_id, ABSOLUTE_URL, "POST", reply.url, body,
                                       object_key=reply.key, to_party=reply.party)

    def connected(self, station_id: str) -> bool:
        return self.services.commands.gateway.is_connected(station_id)

    async def _stations_at(self, location_id: str) -> list[Station]:
        found: list[Station] = []
        offset = 0
        while True:
            page, total = await self.services.storage.read(self._station_page(offset))
            found.extend(st for st in page if st.location_id == location_id)
            offset += len(page)
            if not page or offset >= total:
                return found

    @staticmethod
    def _station_page(offset: int) -> Callable[[Repositories],
                                               Awaitable[tuple[list[Station], int]]]:
        return lambda r: r.list_stations(STATION_PAGE, offset)

    async def resolve(self, location_id: str, evse_uid: str | None,
                      connector_id: str | None = None) -> Target:
        """Our station (and EVSE) for a location_id/evse_uid pair of a command."""
        storage = self.services.storage
        if await storage.read(lambda r: r.get_location(location_id)) is None:
            # status_codes 2003: "Unknown Location, for example: Command: START_SESSION with
            # unknown location".
            raise Refusal(s.CommandResponseType.REJECTED,
                          f"unknown location {location_id!r}", OcpiStatus.UNKNOWN_LOCATION)
        if evse_uid is None:
            return await self._any_station(location_id)
        parts = split_evse_uid(evse_uid)
        station = await storage.read(lambda r: r.get_station(parts[0])) if parts else None
        if parts is None or station is None or station.location_id != location_id:
            raise Refusal(s.CommandResponseType.REJECTED,
                          f"unknown EVSE {evse_uid!r} at location {location_id!r}")
        station_id, evse_id = parts
        connectors = [k for k in await storage.read(lambda r: r.list_connectors([station_id]))
                      if k.evse_id == evse_id]
        if not connectors:
            raise Refusal(s.CommandResponseType.REJECTED,
                          f"unknown EVSE {evse_uid!r} at location {location_id!r}")
        if connector_id is not None and connector_id not in {str(k.connector_id)
                                                             for k in connectors}:
            raise Refusal(s.CommandResponseType.REJECTED,
                          f"unknown connector {connector_id!r} of EVSE {evse_uid!r}")
        self._require_online(station_id)
        return Target(station_id, evse_id, evse_uid)

    async def _any_station(self, location_id: str) -> Target:
        """No EVSE named: a connected station of the location decides (mod_commands
        §StartSession: "the Charge Point can itself decide on which EVSE")."""
        stations = [st for st in await self._stations_at(location_id) if self.connected(st.id)]
        if not stations:
            raise Refusal(s.CommandResponseType.REJECTED,
                          f"no charging station of location {location_id!r} is online")
        return Target(stations[0].id, None, None)

    def _require_online(self, station_id: str) -> None:
        # mod_commands §Flow: the Receiver "checks if it can send the request to a Charge
        # Point" before answering; an offline station cannot be reached.
        if not self.connected(station_id):
            raise Refusal(s.CommandResponseType.REJECTED,
                          f"charging station {station_id!r} is offline")

    def _require_own_token(self, caller: Caller, token: s.Token) -> None:
        # mod_commands §StartSession/§ReserveNow: "An eMSP sending a StartSession SHALL only use
        # Token that are owned by this eMSP". A hub forwards for many parties.
        if caller.partner.is_hub:
            if caller.from_party is not None \
                    and caller.from_party != (token.country_code, token.party_id):
                raise Refusal(s.CommandResponseType.REJECTED,
                              "the token is not owned by the requesting party")
            return
        if not caller.partner.has_party(token.country_code, token.party_id):
            raise Refusal(s.CommandResponseType.REJECTED,
                          "the token is not owned by the requesting party")

    async def _token_partners(self, uid: str) -> set[int | None]:
        """The partners that gave us token `uid` (tokens module or a command)."""
        stored = await self.services.storage.read(lambda r: r.find_roaming_objects(TOKENS, uid))
        return {o.partner_id for o in stored}

    async def _require_own_session(self, caller: Caller, txn: Transaction, kind: str) -> None:
        # mod_commands §CommandResponseType REJECTED: "Session might not be from a customer of
        # the eMSP that send this request"; mod_charging_profiles: profiles come from "the owner
        # of a Token on Sessions that belong to that token".
        owners = await self._token_partners(txn.id_token) if txn.id_token else set()
        if caller.partner.id not in owners:
            raise Refusal(s.CommandResponseType.REJECTED,
                          f"session {txn.id} is not one of the requesting party's ({kind})")

    async def _remember_token(self, caller: Caller, token: s.Token, location_id: str,
                              evse_uid: str | None, authorization_reference: str | None,
                              command: str) -> None:
        """Keep the Token and an ALLOWED authorization before the station uses it, so that its
        Authorize/StartTransaction with this uid is accepted (mod_commands §StartSession: the
        token "is authorized by the eMSP"; the CPO "SHALL NOT check" it)."""
        now = self.roaming.clock()
        data = token.model_dump(mode="json", exclude_none=True)
        partner_id = caller.partner.id
        auth = RoamingAuthorization(
            uid=token.uid, allowed="ALLOWED", authorization_reference=authorization_reference,
            created_at=now, location_id=location_id, evse_uid=evse_uid, partner_id=partner_id,
            extra={"command": command, "country_code": token.country_code,
                   "party_id": token.party_id, "token_type": token.type.value})

        async def op(r: Any) -> None:
            known = await r.get_roaming_object(TOKENS, token.country_code, token.party_id,
                                               token.uid)
            # A newer version pushed through the tokens module wins over the command's copy.
            if known is None or known.last_updated <= token.last_updated:
                await r.upsert_roaming_object(RoamingObject(
                    module=TOKENS, country_code=token.country_code, party_id=token.party_id,
                    object_id=token.uid, data=data, last_updated=token.last_updated,
                    partner_id=partner_id))
            await r.insert_roaming_authorization(auth)

        await self.services.storage.write(op)

    async def _run(self, station_id: str, command: c.Command) -> CommandOutcome:
        return await self.services.commands.execute(station_id, command)

    def accepted(self, message: str | None = None) -> Answer:
        return self.response(s.CommandResponseType.ACCEPTED, message)

    def response(self, result: str, message: str | None = None,
                 status: OcpiStatus = OcpiStatus.SUCCESS) -> Answer:
        body = s.CommandResponse(result=s.CommandResponseType(result), timeout=self.timeout_s,
                                 message=display(message))
        return Answer(status, body.model_dump(mode="json", exclude_none=True), message)

    # -- commands ------------------------------------------------------------------------
    async def command(self, caller: Caller, command: s.CommandType, body: Any) -> Answer:
        handler = {
            s.CommandType.START_SESSION: self._start_session,
            s.CommandType.STOP_SESSION: self._stop_session,
            s.CommandType.RESERVE_NOW: self._reserve_now,
            s.CommandType.CANCEL_RESERVATION: self._cancel_reservation,
            s.CommandType.UNLOCK_CONNECTOR: self._unlock_connector,
        }[command]
        try:
            return await handler(caller, body)
        except Refusal as refusal:
            return self.response(refusal.result, refusal.message, refusal.status)

    def _spawn_command(self, caller: Caller, url: str, kind: str,
                       work: Callable[[], Awaitable[JsonObject]]) -> None:
        self.spawn(self.reply_to(caller, url, f"command/{kind}"), work, failure_result)

    async def _start_session(self, caller: Caller, body: Any) -> Answer:
        request = parse_body(s.StartSession, body)
        self._require_own_token(caller, request.token)
        target = await self.resolve(request.location_id, request.evse_uid, request.connector_id)
        await self._remember_token(caller, request.token, request.location_id, target.evse_uid,
                                   request.authorization_reference, "START_SESSION")
        command = c.RemoteStart(id_token=request.token.uid, evse_id=target.evse_id)

        async def work() -> JsonObject:
            outcome = await self._run(target.station_id, command)
            return command_result(outcome_result(outcome))

        self._spawn_command(caller, request.response_url, "START_SESSION", work)
        return self.accepted()

    async def _session(self, session_id: str) -> Transaction:
        """Our transaction of OCPI Session.id (CONTRACT: str(our transaction id))."""
        if not session_id.isdigit():
            raise Refusal(s.CommandResponseType.UNKNOWN_SESSION,
                          f"unknown session {session_id!r}")
        txn_id = int(session_id)
        txn = await self.services.storage.read(lambda r: r.get_transaction(txn_id))
        if txn is None:
            raise Refusal(s.CommandResponseType.UNKNOWN_SESSION,
                          f"unknown session {session_id!r}")
        return txn

    async def _stop_session(self, caller: Caller, body: Any) -> Answer:
        request = parse_body(s.StopSession, body)
        txn = await self._session(request.session_id)
        await self._require_own_session(caller, txn, "STOP_SESSION")
        if txn.status is TransactionStatus.COMPLETED:
            raise Refusal(s.CommandResponseType.REJECTED,
                          f"session {request.session_id} has already ended")
        self._require_online(txn.station_id)
        command = c.RemoteStop(transaction_id=txn.id)

        async def work() -> JsonObject:
            outcome = await self._run(txn.station_id, command)
            return command_result(outcome_result(outcome))

        self._spawn_command(caller, request.response_url, "STOP_SESSION", work)
        return self.accepted()

    def _reservation_key(self, caller: Caller, reservation_id: str) -> tuple[str, str, str]:
        # The Sender's reservation_id is unique per Sender (CiString: case-insensitive).
        country, party = self.sender(caller)
        return country, party, reservation_id.upper()

    async def _reserve_now(self, caller: Caller, body: Any) -> Answer:
        request = parse_body(s.ReserveNow, body)
        self._require_own_token(caller, request.token)
        target = await self.resolve(request.location_id, request.evse_uid)
        await self._remember_token(caller, request.token, request.location_id, target.evse_uid,
                                   request.authorization_reference, "RESERVE_NOW")
        key = self._reservation_key(caller, request.reservation_id)
        previous = await self.services.storage.read(
            lambda r: r.get_roaming_object(RESERVATIONS, *key))
        # evse_id 0: the station (1.6 connectorId 0) or any EVSE (2.x evseId omitted).
        command = c.ReserveNow(evse_id=target.evse_id or 0, id_token=request.token.uid,
                               expires_at=request.expiry_date)

        async def work() -> JsonObject:
            # §ReserveNow: the same reservation_id at the same Location replaces the reservation.
            if previous is not None and previous.data.get("location_id") == request.location_id:
                await self._cancel_quietly(previous)
            outcome = await self._run(target.station_id, command)
            result = outcome_result(outcome)
            if result is s.CommandResultType.ACCEPTED:
                await self._keep_reservation(caller, key, target, request)
            return command_result(result)

        self._spawn_command(caller, request.response_url, "RESERVE_NOW", work)
        return self.accepted()

    async def _cancel_quietly(self, previous: RoamingObject) -> None:
        station_id = str(previous.data.get("station_id"))
        ours = int(previous.data.get("reservation_id", 0))
        try:
            await self._run(station_id, c.CancelReservation(reservation_id=ours))
        except DomainError as exc:
            log.info("replaced reservation not cancelled", extra={"reservation_id": ours,
                                                                   "error": str(exc)})

    async def _keep_reservation(self, caller: Caller, key: tuple[str, str, str],
                                target: Target, request: s.ReserveNow) -> None:
        """Map the Sender's reservation_id to the reservation we made (the newest of this
        token on the station, which the command service just marked Accepted)."""
        uid = request.token.uid
        recent = await self.services.storage.read(
            lambda r: r.list_reservations(target.station_id, 20))
        ours = next((rv for rv in recent if rv.id_token == uid
                     and rv.status == ReservationStatus.ACCEPTED), None)
        if ours is None:
            log.warning("accepted reservation not found", extra={"station_id": target.station_id})
            return
        obj = RoamingObject(
            module=RESERVATIONS, country_code=key[0], party_id=key[1], object_id=key[2],
            data={"reservation_id": ours.id, "station_id": target.station_id,
                  "evse_uid": target.evse_uid, "location_id": request.location_id,
                  "ocpi_reservation_id": request.reservation_id, "token_uid": uid,
                  "response_url": request.response_url},
            last_updated=self.roaming.clock(), partner_id=caller.partner.id)
        await self.services.storage.write(lambda r: r.upsert_roaming_object(obj))

    async def _cancel_reservation(self, caller: Caller, body: Any) -> Answer:
        request = parse_body(s.CancelReservation, body)
        key = self._reservation_key(caller, request.reservation_id)
        mapping = await self.services.storage.read(
            lambda r: r.get_roaming_object(RESERVATIONS, *key))
        if mapping is None:
            # CommandResponseType has no "unknown reservation"; CommandResultType does.
            async def unknown() -> JsonObject:
                return command_result(s.CommandResultType.UNKNOWN_RESERVATION,
                                      f"unknown reservation {request.reservation_id!r}")

            self._spawn_command(caller, request.response_url, "CANCEL_RESERVATION", unknown)
            return self.accepted()
        station_id = str(mapping.data["station_id"])
        self._require_online(station_id)
        command = c.CancelReservation(reservation_id=int(mapping.data["reservation_id"]))

        async def work() -> JsonObject:
            try:
                outcome = await self._run(station_id, command)
            except NotFound as exc:
                return command_result(s.CommandResultType.UNKNOWN_RESERVATION, str(exc))
            if outcome.status == "Rejected":
                # OCPP 1.6/2.0.1 CancelReservationStatus Rejected: "no reservation active for
                # the given reservationId".
                return command_result(s.CommandResultType.UNKNOWN_RESERVATION)
            result = outcome_result(outcome)
            if result is s.CommandResultType.ACCEPTED:
                await self.services.storage.write(
                    lambda r: r.delete_roaming_object(RESERVATIONS, *key))
            return command_result(result)

        self._spawn_command(caller, request.response_url, "CANCEL_RESERVATION", work)
        return self.accepted()

    async def _unlock_connector(self, caller: Caller, body: Any) -> Answer:
        request = parse_body(s.UnlockConnector, body)
        target = await self.resolve(request.location_id, request.evse_uid, request.connector_id)
        assert target.evse_id is not None  # an evse_uid was given
        command = c.Unlock(evse_id=target.evse_id, connector_id=int(request.connector_id))

        async def work() -> JsonObject:
            outcome = await self._run(target.station_id, command)
            return command_result(outcome_result(outcome))

        self._spawn_command(caller, request.response_url, "UNLOCK_CONNECTOR", work)
        return self.accepted()

    # -- charging profiles ---------------------------------------------------------------
    def profile_response(self, result: str) -> Answer:
        body = s.ChargingProfileResponse(result=s.ChargingProfileResponseType(result),
                                         timeout=self.timeout_s)
        return Answer(OcpiStatus.SUCCESS, body.model_dump(mode="json"))

    async def _profile_session(self, caller: Caller, session_id: str) -> Transaction:
        """The ongoing session a charging profile request is about (Refusal otherwise)."""
        txn = await self._session(session_id)
        await self._require_own_session(caller, txn, "charging profile")
        if txn.status is TransactionStatus.COMPLETED:
            raise Refusal(s.ChargingProfileResponseType.REJECTED,
                          f"session {session_id} has ended")
        self._require_online(txn.station_id)
        return txn

    async def _profile_request(self, caller: Caller, session_id: str, url: str, kind: str,
                               work: Callable[[Transaction], Awaitable[JsonObject]]) -> Answer:
        try:
            txn = await self._profile_session(caller, session_id)
        except Refusal as refusal:
            return self.profile_response(refusal.result)

        async def run() -> JsonObject:
            return await work(txn)

        self.spawn(self.reply_to(caller, url, f"chargingprofile/{kind}"), run,
                   lambda _: profile_result(s.ChargingProfileResultType.REJECTED))
        return self.profile_response(s.ChargingProfileResponseType.ACCEPTED)

    async def get_active_profile(self, caller: Caller, session_id: str, duration: int,
                                 response_url: str) -> Answer:
        async def work(txn: Transaction) -> JsonObject:
            outcome = await self._run(txn.station_id, c.GetCompositeSchedule(
                evse_id=txn.evse_id, duration_s=duration))
            if outcome.status != "Accepted":
                return profile_result(s.ChargingProfileResultType.REJECTED)
            profile = active_profile(outcome.response, self.roaming.clock())
            if profile is None:
                # §ChargingProfileResultType UNKNOWN: "No Charging Profile(s) were found".
                return profile_result(s.ChargingProfileResultType.UNKNOWN)
            return profile_result(s.ChargingProfileResultType.ACCEPTED, profile)

        return await self._profile_request(caller, session_id, response_url, "active", work)

    async def set_profile(self, caller: Caller, session_id: str, body: Any) -> Answer:
        request = parse_body(s.SetChargingProfile, body)
        if not request.charging_profile.charging_profile_period:
            # OCPI allows an empty list (*) but OCPP needs a period: nothing to limit with.
            raise invalid("charging_profile.charging_profile_period: at least one period is "
                          "needed to set a limit")
        sender = self.sender(caller)

        async def work(txn: Transaction) -> JsonObject:
            profile = neutral_profile(txn, request.charging_profile)
            outcome = await self._run(txn.station_id, c.SetChargingProfile(
                evse_id=txn.evse_id, profile=profile))
            if outcome.status != "Accepted":
                return profile_result(s.ChargingProfileResultType.REJECTED)
            await self._keep_profile(caller, sender, txn, request)
            return profile_result(s.ChargingProfileResultType.ACCEPTED)

        return await self._profile_request(caller, session_id, request.response_url, "set",
                                           work)

    async def _keep_profile(self, caller: Caller, sender: tuple[str, str], txn: Transaction,
                            request: s.SetChargingProfile) -> None:
        """Remember who set a profile on the session: mod_charging_profiles §Flow makes the
        CPO keep that Sender updated with changes of the ActiveChargingProfile."""
        obj = RoamingObject(
            module=PROFILES, country_code=sender[0], party_id=sender[1], object_id=str(txn.id),
            data={"session_id": str(txn.id),
                  "charging_profile": request.charging_profile.model_dump(
                      mode="json", exclude_none=True),
                  "response_url": request.response_url},
            last_updated=self.roaming.clock(), partner_id=caller.partner.id)
        await self.services.storage.write(lambda r: r.upsert_roaming_object(obj))

    async def clear_profile(self, caller: Caller, session_id: str, response_url: str) -> Answer:
        sender = self.sender(caller)

        async def work(txn: Transaction) -> JsonObject:
            outcome = await self._run(txn.station_id, c.ClearChargingProfile(
                id=PROFILE_ID_BASE + txn.id % PROFILE_ID_BASE))
            if outcome.status == "Accepted":
                await self.services.storage.write(lambda r: r.delete_roaming_object(
                    PROFILES, sender[0], sender[1], str(txn.id)))
                return profile_result(s.ChargingProfileResultType.ACCEPTED)
            if outcome.status == "Unknown":
                return profile_result(s.ChargingProfileResultType.UNKNOWN)
            return profile_result(s.ChargingProfileResultType.REJECTED)

        return await self._profile_request(caller, session_id, response_url, "clear", work)
