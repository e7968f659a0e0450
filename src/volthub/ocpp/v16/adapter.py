"""OCPP 1.6J handlers for station-initiated actions: translate, call a service, translate back."""

from __future__ import annotations

from volthub.domain.enums import AuthStatus
from volthub.domain.model import JsonObject
from volthub.ocpp import security
from volthub.ocpp.context import Handler, StationContext, drop_none, format_time, parse_time
from volthub.ocpp.v16 import inbound


async def boot_notification(ctx: StationContext, p: JsonObject) -> JsonObject:
    result = await ctx.services.stations.boot(ctx.station_id, inbound.identity(p), ctx.version)
    ctx.accepted = result.status == "Accepted"
    return {
        "status": result.status.value,
        "currentTime": format_time(result.current_time),
        "interval": result.interval_s,
    }


async def heartbeat(ctx: StationContext, p: JsonObject) -> JsonObject:
    return {"currentTime": format_time(ctx.now())}


async def status_notification(ctx: StationContext, p: JsonObject) -> JsonObject:
    state = inbound.connector_state(ctx.station_id, p, ctx.now())
    await ctx.services.stations.status_changed(state)
    # Charging vs SuspendedEV during a transaction decides TIME vs PARKING_TIME.
    await ctx.services.billing.connector_status(state)
    return {}


async def authorize(ctx: StationContext, p: JsonObject) -> JsonObject:
    auth = await ctx.services.authorize(p["idTag"], station_id=ctx.station_id)
    if auth.status is AuthStatus.ACCEPTED:
        id_tag = p["idTag"]

        async def show_price() -> None:
            await ctx.services.cost_display.authorized_16(ctx.station_id, None, id_tag)

        ctx.after_reply(show_price)
    return {"idTagInfo": inbound.id_tag_info(auth)}


async def start_transaction(ctx: StationContext, p: JsonObject) -> JsonObject:
    # OCPP 1.6 has no transaction id from the station: identical StartTransactions (a retry after
    # a lost answer) are recognised by their content and get the same transactionId.
    key = f"{p['connectorId']}|{p['meterStart']}|{p['timestamp']}|{p['idTag']}"
    result = await ctx.services.transactions.start(
        ctx.station_id, p["connectorId"], 1, p["idTag"], p["meterStart"],
        parse_time(p["timestamp"]) or ctx.now(), p.get("reservationId"), start_key=key,
    )
    return {"transactionId": int(result.transaction.station_transaction_id),
            "idTagInfo": inbound.id_tag_info(result.authorization)}


async def stop_transaction(ctx: StationContext, p: JsonObject) -> JsonObject:
    readings = [(0, r) for r in inbound.readings(p.get("transactionData", []))]
    result = await ctx.services.transactions.stop(
        ctx.station_id, str(p["transactionId"]), p["meterStop"],
        parse_time(p["timestamp"]) or ctx.now(), p.get("reason", "Local"), p.get("idTag"), readings,
    )
    if result.transaction is not None and not result.duplicate:
        reference = str(p["transactionId"])

        async def final_cost() -> None:
            await ctx.services.cost_display.stopped_16(ctx.station_id, reference)

        ctx.after_reply(final_cost)
    return drop_none({"idTagInfo": inbound.id_tag_info(result.authorization)
                      if result.authorization else None})


async def meter_values(ctx: StationContext, p: JsonObject) -> JsonObject:
    txn = p.get("transactionId")
    await ctx.services.transactions.meter_values(
        ctx.station_id, p["connectorId"], str(txn) if txn is not None else None,
        inbound.readings(p["meterValue"]),
    )
    if txn is not None:
        reference = str(txn)

        async def running_cost() -> None:
            await ctx.services.cost_display.metered_16(ctx.station_id, reference, ctx.now())

        ctx.after_reply(running_cost)
    return {}


async def data_transfer(ctx: StationContext, p: JsonObject) -> JsonObject:
    reply = await ctx.services.data_transfer.handle(
        ctx.station_id, p["vendorId"], p.get("messageId"), p.get("data")
    )
    return drop_none({"status": reply.status, "data": reply.data})


def _station_status(field: str) -> Handler:
    async def handler(ctx: StationContext, p: JsonObject) -> JsonObject:
        await ctx.services.stations.record_station_status(ctx.station_id, field, p["status"])
        return {}

    return handler


async def security_event(ctx: StationContext, p: JsonObject) -> JsonObject:
    await ctx.services.stations.record_security_event(
        ctx.station_id, p["type"], p.get("techInfo"), parse_time(p["timestamp"]), source="station"
    )
    return {}


async def sign_certificate(ctx: StationContext, p: JsonObject) -> JsonObject:
    # Signed by the built-in CA; CertificateSigned follows the answer (whitepaper A02/A03).
    return {"status": await security.sign_certificate(ctx, p["csr"], None)}


HANDLERS: dict[str, Handler] = {
    "BootNotification": boot_notification,
    "Heartbeat": heartbeat,
    "StatusNotification": status_notification,
    "Authorize": authorize,
    "StartTransaction": start_transaction,
    "StopTransaction": stop_transaction,
    "MeterValues": meter_values,
    "DataTransfer": data_transfer,
    "DiagnosticsStatusNotification": _station_status("diagnostics_status"),
    "FirmwareStatusNotification": _station_status("firmware_status"),
    # 1.6 security whitepaper edition 2
    "SecurityEventNotification": security_event,
    "SignCertificate": sign_certificate,
    "LogStatusNotification": _station_status("log_status"),
    "SignedFirmwareStatusNotification": _station_status("firmware_status"),
}

