"""A version-neutral test station: one scenario drives an OCPP 1.6, 2.0.1 or 2.1 station.

1.6 charges with StartTransaction / MeterValues / StopTransaction (station reference: the integer
transactionId the CSMS assigned); 2.x with TransactionEvent Started / Updated / Ended (station
reference: the transactionId string the station chose). Calls from the CSMS are answered by the
underlying test stations (tests.support.station16 / station2x) and read back here in neutral form.
"""

from __future__ import annotations

import itertools
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from ocpp.charge_point import remove_nones, snake_to_camel_case
from ocpp.v16 import call as call16

from tests.support.station2x import TestStation2x, connect2x
from tests.support.station16 import TestStation16, connect16

VERSIONS = ("1.6", "2.0.1", "2.1")
ENERGY = "Energy.Active.Import.Register"

StationRef = int | str

# The OCPP action each version-neutral admin command becomes (CONTRACT.md "Commands").
_ACTIONS_16 = {
    "remote-start": "RemoteStartTransaction", "remote-stop": "RemoteStopTransaction",
    "reset": "Reset", "unlock": "UnlockConnector", "change-availability": "ChangeAvailability",
    "trigger": "TriggerMessage", "data-transfer": "DataTransfer",
    "get-configuration": "GetConfiguration", "set-configuration": "ChangeConfiguration",
    "reserve-now": "ReserveNow", "cancel-reservation": "CancelReservation",
}
_ACTIONS_2X = {
    **_ACTIONS_16,
    "remote-start": "RequestStartTransaction", "remote-stop": "RequestStopTransaction",
    "get-configuration": "GetVariables", "set-configuration": "SetVariables",
}
# 2.x triggerReason of an Ended event for a stop reason (2.0.1 E06 / TriggerReasonEnumType).
_END_TRIGGERS = {"Remote": "RemoteStop", "EVDisconnected": "EVCommunicationLost",
                 "Local": "StopAuthorized", "DeAuthorized": "Deauthorized"}


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class RemoteStartSeen:
    """What a station was asked by RemoteStartTransaction / RequestStartTransaction."""

    id_token: str
    evse_id: int | None
    remote_start_id: int | None


class Driver(ABC):
    """The station side of a scenario, the same methods for every OCPP version."""

    version: str
    station_id: str
    # The idTagInfo / idTokenInfo status of the last start or stop that carried one.
    last_auth_status: str | None = None

    @abstractmethod
    async def boot(self) -> str:
        """BootNotification; the registration status."""

    @abstractmethod
    async def heartbeat(self) -> str:
        """Heartbeat; the CSMS's currentTime."""

    @abstractmethod
    async def status(self, evse: int, connector: int, status: str) -> None:
        """StatusNotification of one connector (1.6: connectorId `evse`, `connector` must be 1)."""

    @abstractmethod
    async def authorize(self, token: str) -> str:
        """Authorize; the idTagInfo / idTokenInfo status."""

    @abstractmethod
    async def start(self, evse: int, token: str, meter_wh: int, ts: str, *,
                    reservation_id: int | None = None,
                    remote: RemoteStartSeen | None = None) -> StationRef:
        """Start charging on `evse` (connector 1); the station's reference of the transaction."""

    @abstractmethod
    async def meter(self, ref: StationRef, evse: int, wh: int, ts: str) -> None:
        """A periodic energy reading during the transaction."""

    @abstractmethod
    async def stop(self, ref: StationRef, meter_wh: int, ts: str,
                   reason: str | None = None) -> None:
        """Stop the transaction; `reason` None leaves it out (both versions then mean Local)."""

    @abstractmethod
    def calls(self, action: str) -> list[dict[str, Any]]:
        """Payloads (camelCase, as sent) of the CSMS's calls of `action`, oldest first."""

    @abstractmethod
    def answer(self, action: str, payload: dict[str, Any]) -> None:
        """Script the station's answer (camelCase) to the CSMS's next calls of `action`."""

    @abstractmethod
    def remote_start_seen(self) -> RemoteStartSeen:
        """The last remote start the CSMS asked for."""

    @abstractmethod
    def remote_stop_seen(self) -> StationRef:
        """The station reference of the last remote stop the CSMS asked for."""

    @abstractmethod
    def reservation_id_seen(self) -> int:
        """The reservation id of the last ReserveNow the CSMS sent."""

    @property
    @abstractmethod
    def heartbeat_interval_key(self) -> str:
        """The configuration key of the heartbeat interval (2.x: Component.Variable)."""

    @abstractmethod
    def answer_configuration(self, value: str) -> None:
        """Script the answer to a configuration read of the heartbeat interval."""

    @abstractmethod
    def configuration_in(self, response: dict[str, Any]) -> dict[str, str | None]:
        """Key → value of a station's raw answer to get-configuration."""

    def action_for(self, command: str) -> str:
        """The OCPP action an admin command becomes on this version."""
        return (_ACTIONS_16 if self.version == "1.6" else _ACTIONS_2X)[command]


class Driver16(Driver):
    def __init__(self, station: TestStation16) -> None:
        self.station = station
        self.version = "1.6"
        self.station_id = station.id

    async def _call(self, request: Any) -> dict[str, Any]:
        result = await self.station.call(request, suppress=False)
        answer: dict[str, Any] = remove_nones(snake_to_camel_case(asdict(result)))
        return answer

    async def boot(self) -> str:
        answer = await self._call(call16.BootNotification(charge_point_vendor="TestVendor",
                                                          charge_point_model="TestModel"))
        status: str = answer["status"]
        return status

    async def heartbeat(self) -> str:
        current: str = (await self._call(call16.Heartbeat()))["currentTime"]
        return current

    async def status(self, evse: int, connector: int, status: str) -> None:
        assert connector == 1, "a 1.6 connectorId is an EVSE with one connector"
        error = "OtherError" if status == "Faulted" else "NoError"
        await self._call(call16.StatusNotification(connector_id=evse, error_code=error,
                                                   status=status, timestamp=now()))

    async def authorize(self, token: str) -> str:
        answer = await self._call(call16.Authorize(id_tag=token))
        status: str = answer["idTagInfo"]["status"]
        return status

    async def start(self, evse: int, token: str, meter_wh: int, ts: str, *,
                    reservation_id: int | None = None,
                    remote: RemoteStartSeen | None = None) -> StationRef:
        answer = await self._call(call16.StartTransaction(
            connector_id=evse, id_tag=token, meter_start=meter_wh, timestamp=ts,
            reservation_id=reservation_id))
        self.last_auth_status = answer["idTagInfo"]["status"]
        ref: int = answer["transactionId"]
        return ref

    async def meter(self, ref: StationRef, evse: int, wh: int, ts: str) -> None:
        await self._call(call16.MeterValues(
            connector_id=evse, transaction_id=int(ref), meter_value=[{
                "timestamp": ts, "sampledValue": [{
                    "value": str(wh), "context": "Sample.Periodic", "measurand": ENERGY,
                    "unit": "Wh"}]}]))

    async def stop(self, ref: StationRef, meter_wh: int, ts: str,
                   reason: str | None = None) -> None:
        answer = await self._call(call16.StopTransaction(
            meter_stop=meter_wh, timestamp=ts, transaction_id=int(ref), reason=reason))
        if "idTagInfo" in answer:
            self.last_auth_status = answer["idTagInfo"]["status"]

    def calls(self, action: str) -> list[dict[str, Any]]:
        return [p for a, p in self.station.raw_received if a == action]

    def answer(self, action: str, payload: dict[str, Any]) -> None:
        self.station.answers[action] = payload

    def _last(self, action: str) -> dict[str, Any]:
        calls = self.calls(action)
        assert calls, f"the CSMS sent no {action}"
        return calls[-1]

    def remote_start_seen(self) -> RemoteStartSeen:
        request = self._last("RemoteStartTransaction")
        return RemoteStartSeen(request["idTag"], request.get("connectorId"), None)

    def remote_stop_seen(self) -> StationRef:
        ref: int = self._last("RemoteStopTransaction")["transactionId"]
        return ref

    def reservation_id_seen(self) -> int:
        rid: int = self._last("ReserveNow")["reservationId"]
        return rid

    @property
    def heartbeat_interval_key(self) -> str:
        return "HeartbeatInterval"

    def answer_configuration(self, value: str) -> None:
        self.answer("GetConfiguration", {"configurationKey": [
            {"key": "HeartbeatInterval", "readonly": False, "value": value}]})

    def configuration_in(self, response: dict[str, Any]) -> dict[str, str | None]:
        return {k["key"]: k.get("value") for k in response.get("configurationKey", [])}


class Driver2x(Driver):
    _references = itertools.count(1)

    def __init__(self, station: TestStation2x) -> None:
        self.station = station
        self.version = station.version
        self.station_id = station.id
        self._seq: dict[str, itertools.count[int]] = {}

    def _next_seq(self, ref: str) -> int:
        return next(self._seq.setdefault(ref, itertools.count(0)))

    @staticmethod
    def _energy(wh: int, context: str, ts: str) -> list[dict[str, Any]]:
        return [{"timestamp": ts, "sampledValue": [
            {"value": wh, "context": context, "measurand": ENERGY,
             "unitOfMeasure": {"unit": "Wh"}}]}]

    async def boot(self) -> str:
        status: str = (await self.station.boot())["status"]
        return status

    async def heartbeat(self) -> str:
        current: str = (await self.station.send("Heartbeat", {}))["currentTime"]
        return current

    async def status(self, evse: int, connector: int, status: str) -> None:
        await self.station.send("StatusNotification", {
            "timestamp": now(), "connectorStatus": status, "evseId": evse,
            "connectorId": connector})

    async def authorize(self, token: str) -> str:
        answer = await self.station.send("Authorize", {"idToken": self._token(token)})
        status: str = answer["idTokenInfo"]["status"]
        return status

    @staticmethod
    def _token(token: str) -> dict[str, Any]:
        return {"idToken": token, "type": "ISO14443"}

    async def start(self, evse: int, token: str, meter_wh: int, ts: str, *,
                    reservation_id: int | None = None,
                    remote: RemoteStartSeen | None = None) -> StationRef:
        ref = f"{self.station_id}-TX{next(self._references)}"
        info: dict[str, Any] = {"transactionId": ref, "chargingState": "Charging"}
        if remote is not None and remote.remote_start_id is not None:
            info["remoteStartId"] = remote.remote_start_id
        payload: dict[str, Any] = {
            "eventType": "Started", "timestamp": ts, "seqNo": self._next_seq(ref),
            "triggerReason": "RemoteStart" if remote is not None else "Authorized",
            "transactionInfo": info, "evse": {"id": evse, "connectorId": 1},
            "idToken": self._token(token),
            "meterValue": self._energy(meter_wh, "Transaction.Begin", ts),
        }
        if reservation_id is not None:
            payload["reservationId"] = reservation_id
        answer = await self.station.send("TransactionEvent", payload)
        self.last_auth_status = answer.get("idTokenInfo", {}).get("status")
        return ref

    async def meter(self, ref: StationRef, evse: int, wh: int, ts: str) -> None:
        await self.station.send("TransactionEvent", {
            "eventType": "Updated", "timestamp": ts, "seqNo": self._next_seq(str(ref)),
            "triggerReason": "MeterValuePeriodic", "transactionInfo": {"transactionId": ref},
            "evse": {"id": evse, "connectorId": 1},
            "meterValue": self._energy(wh, "Sample.Periodic", ts)})

    async def stop(self, ref: StationRef, meter_wh: int, ts: str,
                   reason: str | None = None) -> None:
        info: dict[str, Any] = {"transactionId": ref, "chargingState": "Idle"}
        if reason is not None:
            info["stoppedReason"] = reason
        answer = await self.station.send("TransactionEvent", {
            "eventType": "Ended", "timestamp": ts, "seqNo": self._next_seq(str(ref)),
            "triggerReason": _END_TRIGGERS.get(reason or "Local", "AbnormalCondition"),
            "transactionInfo": info,
            "meterValue": self._energy(meter_wh, "Transaction.End", ts)})
        if "idTokenInfo" in answer:
            self.last_auth_status = answer["idTokenInfo"]["status"]

    def calls(self, action: str) -> list[dict[str, Any]]:
        return self.station.got(action)

    def answer(self, action: str, payload: dict[str, Any]) -> None:
        self.station.answers[action] = payload

    def _last(self, action: str) -> dict[str, Any]:
        calls = self.calls(action)
        assert calls, f"the CSMS sent no {action}"
        return calls[-1]

    def remote_start_seen(self) -> RemoteStartSeen:
        request = self._last("RequestStartTransaction")
        return RemoteStartSeen(request["idToken"]["idToken"], request.get("evseId"),
                               request["remoteStartId"])

    def remote_stop_seen(self) -> StationRef:
        ref: str = self._last("RequestStopTransaction")["transactionId"]
        return ref

    def reservation_id_seen(self) -> int:
        rid: int = self._last("ReserveNow")["id"]
        return rid

    @property
    def heartbeat_interval_key(self) -> str:
        return "OCPPCommCtrlr.HeartbeatInterval"

    def answer_configuration(self, value: str) -> None:
        self.answer("GetVariables", {"getVariableResult": [
            {"attributeStatus": "Accepted", "attributeValue": value,
             "component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}]})

    def configuration_in(self, response: dict[str, Any]) -> dict[str, str | None]:
        return {f"{r['component']['name']}.{r['variable']['name']}": r.get("attributeValue")
                for r in response.get("getVariableResult", [])}


@asynccontextmanager
async def connect(version: str, ocpp_url: str, station_id: str,
                  boot: bool = True) -> AsyncIterator[Driver]:
    """A connected station of `version` behind the neutral driver (booted unless `boot` False)."""
    if version == "1.6":
        async with connect16(ocpp_url, station_id, boot=False) as station16:
            driver: Driver = Driver16(station16)
            if boot:
                assert await driver.boot() == "Accepted"
            yield driver
    else:
        async with connect2x(ocpp_url, station_id, version, boot=False) as station2x:
            driver = Driver2x(station2x)
            if boot:
                assert await driver.boot() == "Accepted"
            yield driver

