"""OCPP 2.0.1 and 2.1 handlers for station-initiated actions: translate, call a service, answer."""

from __future__ import annotations

import logging

from volthub.domain import commands as c
from volthub.domain.enums import AuthStatus, ReservationStatus
from volthub.domain.model import JsonObject
from volthub.ocpp import security
from volthub.ocpp.context import Handler, StationContext, drop_none, format_time, parse_time
from volthub.ocpp.v201 import inbound
from volthub.services.iso15118 import (
    EXI_RESPONSE_MAX_21,
    EXI_RESPONSE_MAX_201,
    OCSP_RESULT_MAX_21,
    OCSP_RESULT_MAX_201,
)

log = logging.getLogger("volthub.ocpp")


async def boot_notification(ctx: StationContext, p: JsonObject) -> JsonObject:
    services = ctx.services
    result = await services.stations.boot(ctx.station_id, inbound.identity(p), ctx.version,
                                          boot_reason=p.get("reason"))
    ctx.accepted = result.status == "Accepted"
    return {
        "status": result.status.value,
        "currentTime": format_time(result.current_time),
        "interval": result.interval_s,
    }


async def heartbeat(ctx: StationContext, p: JsonObject) -> JsonObject:
    return {"currentTime": format_time(ctx.now())}


async def status_notification(ctx: StationContext, p: JsonObject) -> JsonObject:
    await ctx.services.stations.status_changed(inbound.connector_state(ctx.station_id, p, ctx.now()))
    return {}


async def authorize(ctx: StationContext, p: JsonObject) -> JsonObject:
    token = p["idToken"]
    if token["type"] == "NoAuthorization":
        # 2.0.1 IdTokenEnumType NoAuthorization: no identification possible, nothing to refuse.
        return {"idTokenInfo": {"status": AuthStatus.ACCEPTED.value}}
    auth = await ctx.services.authorize(token["idToken"], station_id=ctx.station_id)
    message = None
    if auth.status is AuthStatus.ACCEPTED:
        message = await ctx.services.costs.tariff_message(ctx.station_id, None, token["idToken"])
    return {"idTokenInfo": inbound.id_token_info(auth, message)}


async def transaction_event(ctx: StationContext, p: JsonObject) -> JsonObject:
    event = inbound.transaction_event(p)
    result = await ctx.services.transaction_events.apply(ctx.station_id, event)
    answer: JsonObject = {}
    if event.id_token is not None and result.authorization is not None:
        # E01-E03: idTokenInfo only when the request carried an idToken.
        answer["idTokenInfo"] = inbound.id_token_info(result.authorization)
    if event.event_type == "Ended":
        # I03: the final cost incl. VAT (the CDR's), 0.00 for a free session; omitted when
        # the session is not priced.
        cost = await ctx.services.costs.running_cost(result.transaction.id)
        if cost is not None:
            answer["totalCost"] = float(cost)
    elif event.event_type == "Updated" and event.readings and not result.duplicate:
        txn = result.transaction

        async def cost_updated() -> None:
            await ctx.services.cost_display.updated_2x(ctx.station_id, txn)

        ctx.after_reply(cost_updated)
    if result.missing_seq_nos:
        reference = event.reference

        async def ask_status() -> None:
            # E14: a gap in seqNo; ask whether the station still has messages queued.
            await ctx.services.commands.execute(
                ctx.station_id, c.GetTransactionStatus(station_transaction_id=reference))

        ctx.after_reply(ask_status)
    return answer


async def meter_values(ctx: StationContext, p: JsonObject) -> JsonObject:
    # J01: MeterValuesRequest carries readings outside transactions (evseId 0 = main meter).
    await ctx.services.transactions.meter_values(
        ctx.station_id, p["evseId"], None, inbound.readings(p["meterValue"], "Sample.Periodic"))
    return {}


async def data_transfer(ctx: StationContext, p: JsonObject) -> JsonObject:
    reply = await ctx.services.data_transfer.handle(
        ctx.station_id, p["vendorId"], p.get("messageId"),
        p.get("data") if isinstance(p.get("data"), str) or p.get("data") is None
        else str(p.get("data")),
    )
    return drop_none({"status": reply.status, "data": reply.data})


def _status_field(action: str, field: str) -> Handler:
    """Firmware, publish and log progress: the last status on the station, each one kept."""

    async def handler(ctx: StationContext, p: JsonObject) -> JsonObject:
        await ctx.services.stations.record_station_status(ctx.station_id, field, p["status"])
        await ctx.services.reports.record(ctx.station_id, action, p,
                                          request_id=p.get("requestId"))
        return {}

    return handler


async def security_event(ctx: StationContext, p: JsonObject) -> JsonObject:
    await ctx.services.stations.record_security_event(
        ctx.station_id, p["type"], p.get("techInfo"), parse_time(p["timestamp"]), source="station"
    )
    return {}


async def sign_certificate(ctx: StationContext, p: JsonObject) -> JsonObject:
    # A02/A03: the built-in CA signs the CSR; CertificateSigned follows after this answer.
    status = await security.sign_certificate(ctx, p["csr"], p.get("certificateType"))
    return {"status": status}


async def notify_report(ctx: StationContext, p: JsonObject) -> JsonObject:
    rows = inbound.report_variables(p.get("reportData", []), ctx.now())
    await ctx.services.reports.record_variables(ctx.station_id, rows)
    meta = {k: v for k, v in p.items() if k != "reportData"}
    meta["items"] = len(p.get("reportData", []))
    await ctx.services.reports.record(ctx.station_id, "NotifyReport", meta,
                                      request_id=p.get("requestId"))
    return {}


def _stored(action: str, answer: JsonObject | None = None) -> Handler:
    """A notification kept verbatim as a station report, answered with `answer`."""
    reply = answer or {}

    async def handler(ctx: StationContext, p: JsonObject) -> JsonObject:
        await ctx.services.reports.record(ctx.station_id, action, p,
                                          request_id=p.get("requestId"), evse_id=p.get("evseId"))
        return dict(reply)

    return handler


async def notify_ev_charging_needs(ctx: StationContext, p: JsonObject) -> JsonObject:
    evse_id = p["evseId"]
    await ctx.services.reports.record(ctx.station_id, "NotifyEVChargingNeeds", p,
                                      evse_id=evse_id)
    command = await ctx.services.ev_charging_needs.profile_for(
        ctx.station_id, evse_id, p["chargingNeeds"])
    if command is None:
        # K17: without a transaction on that EVSE (or a usable need) there is nothing to plan.
        return {"status": "Rejected"}

    async def send_profile() -> None:
        await ctx.services.commands.execute(ctx.station_id, command)

    ctx.after_reply(send_profile)
    # K15.FR.xx: Processing = a charging schedule follows in a SetChargingProfileRequest.
    return {"status": "Processing"}


async def reservation_status_update(ctx: StationContext, p: JsonObject) -> JsonObject:
    # Expired (and 2.1 NoTransaction: the holder never started) end by time; Removed by the
    # station (e.g. the EVSE became inoperative).
    status = (ReservationStatus.CANCELLED if p["reservationUpdateStatus"] == "Removed"
              else ReservationStatus.EXPIRED)
    await ctx.services.stations.reservation_ended(ctx.station_id, p["reservationId"], status)
    return {}


async def get_15118_ev_certificate(ctx: StationContext, p: JsonObject) -> JsonObject:
    extra = {k: v for k, v in p.items()
             if k not in ("iso15118SchemaVersion", "action", "exiRequest")}
    v21 = ctx.version == "2.1"
    result = await ctx.services.iso15118.ev_certificate(
        ctx.station_id, p["iso15118SchemaVersion"], p["action"], p["exiRequest"], extra,
        max_exi_response=EXI_RESPONSE_MAX_21 if v21 else EXI_RESPONSE_MAX_201)
    # statusInfo: a reason code plus the readable reason (not the reason cut to 20 characters).
    return drop_none({"status": result.status, "exiResponse": result.exi_response,
                      "statusInfo": result.status_info(),
                      "remainingContracts": result.remaining_contracts if v21 else None})


async def get_certificate_status(ctx: StationContext, p: JsonObject) -> JsonObject:
    result = await ctx.services.iso15118.certificate_status(
        p["ocspRequestData"],
        max_ocsp_result=OCSP_RESULT_MAX_21 if ctx.version == "2.1" else OCSP_RESULT_MAX_201)
    return drop_none({"status": result.status, "ocspResult": result.ocsp_result,
                      "statusInfo": result.status_info()})


async def get_certificate_chain_status(ctx: StationContext, p: JsonObject) -> JsonObject:
    statuses = await ctx.services.iso15118.get_certificate_chain_status(
        p["certificateStatusRequests"])
    return {"certificateStatus": statuses}


async def pull_dynamic_schedule_update(ctx: StationContext, p: JsonObject) -> JsonObject:
    # 2.1 K29: we send no Dynamic charging profiles, so there is no update to pull.
    return {"status": "Rejected", "statusInfo": {"reasonCode": "NoDynamicSchedule"}}


async def vat_number_validation(ctx: StationContext, p: JsonObject) -> JsonObject:
    await ctx.services.reports.record(ctx.station_id, "VatNumberValidation", p,
                                      evse_id=p.get("evseId"))
    # 2.1 C24: no VAT registry is configured, so a number cannot be confirmed.
    return drop_none({"vatNumber": p["vatNumber"], "evseId": p.get("evseId"),
                      "status": "Rejected", "statusInfo": {"reasonCode": "NoValidator"}})


HANDLERS_201: dict[str, Handler] = {
    "BootNotification": boot_notification,
    "Heartbeat": heartbeat,
    "StatusNotification": status_notification,
    "Authorize": authorize,
    "TransactionEvent": transaction_event,
    "MeterValues": meter_values,
    "DataTransfer": data_transfer,
    "FirmwareStatusNotification": _status_field("FirmwareStatusNotification", "firmware_status"),
    "LogStatusNotification": _status_field("LogStatusNotification", "log_status"),
    "PublishFirmwareStatusNotification": _status_field("PublishFirmwareStatusNotification",
                                                       "publish_firmware_status"),
    "SecurityEventNotification": security_event,
    "SignCertificate": sign_certificate,
    "NotifyReport": notify_report,
    "NotifyEvent": _stored("NotifyEvent"),
    "NotifyMonitoringReport": _stored("NotifyMonitoringReport"),
    "NotifyCustomerInformation": _stored("NotifyCustomerInformation"),
    "NotifyDisplayMessages": _stored("NotifyDisplayMessages"),
    "NotifyChargingLimit": _stored("NotifyChargingLimit"),
    "ClearedChargingLimit": _stored("ClearedChargingLimit"),
    "NotifyEVChargingSchedule": _stored("NotifyEVChargingSchedule", {"status": "Accepted"}),
    "ReportChargingProfiles": _stored("ReportChargingProfiles"),
    "NotifyEVChargingNeeds": notify_ev_charging_needs,
    "ReservationStatusUpdate": reservation_status_update,
    "Get15118EVCertificate": get_15118_ev_certificate,
    "GetCertificateStatus": get_certificate_status,
}

# OCPP 2.1 adds these station-initiated actions; everything shared with 2.0.1 uses the code above.
HANDLERS_21: dict[str, Handler] = {
    **HANDLERS_201,
    "BatterySwap": _stored("BatterySwap"),
    "OpenPeriodicEventStream": _stored("OpenPeriodicEventStream", {"status": "Accepted"}),
    "ClosePeriodicEventStream": _stored("ClosePeriodicEventStream"),
    "NotifyPeriodicEventStream": _stored("NotifyPeriodicEventStream"),  # a SEND: no answer
    "GetCertificateChainStatus": get_certificate_chain_status,
    "NotifyDERAlarm": _stored("NotifyDERAlarm"),
    "NotifyDERStartStop": _stored("NotifyDERStartStop"),
    "ReportDERControl": _stored("ReportDERControl"),
    "NotifyPriorityCharging": _stored("NotifyPriorityCharging"),
    "NotifySettlement": _stored("NotifySettlement"),
    "PullDynamicScheduleUpdate": pull_dynamic_schedule_update,
    "VatNumberValidation": vat_number_validation,
}
