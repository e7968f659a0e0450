"""Cost on the station's display: 2.x CostUpdated, 1.6 the OCA California Pricing DataTransfer.

OCPP 1.6 has no cost messages; the OCA application note "OCPP & California Pricing
Requirements" defines DataTransfer vendorId `org.openchargealliance.costmsg` with messageIds
SetUserPrice {idToken, priceText}, RunningCost {transactionId, timestamp, meterValue, cost,
state, chargingPrice} and FinalCost {transactionId, cost, priceText}. A station that answers
UnknownVendorId / UnknownMessageId does not support it and is not sent it again.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from volthub.domain import commands as c
from volthub.domain.errors import DomainError
from volthub.domain.model import Transaction
from volthub.services.billing import BillingService, utc_z
from volthub.services.commands import CommandService
from volthub.services.ports import Clock
from volthub.storage.interface import Storage

log = logging.getLogger("volthub.cost_display")
COSTMSG_VENDOR = "org.openchargealliance.costmsg"
_UNSUPPORTED = {"UnknownVendorId", "UnknownMessageId"}


class CostDisplayService:
    """Pushes the running and final cost to stations, throttled per transaction."""

    def __init__(self, storage: Storage, clock: Clock, billing: BillingService,
                 commands: CommandService, interval_s: float) -> None:
        self.storage = storage
        self.clock = clock
        self.billing = billing
        self.commands = commands
        self.interval = timedelta(seconds=interval_s)
        self._last_sent: dict[int, datetime] = {}
        self._unsupported: set[str] = set()

    def _due(self, transaction_id: int) -> bool:
        now = self.clock()
        last = self._last_sent.get(transaction_id)
        if last is not None and now - last < self.interval:
            return False
        self._last_sent[transaction_id] = now
        return True

    async def _send_16(self, station_id: str, message_id: str, data: dict[str, Any]) -> None:
        if station_id in self._unsupported:
            return
        try:
            outcome = await self.commands.execute(station_id, c.DataTransfer(
                vendor_id=COSTMSG_VENDOR, message_id=message_id,
                data=json.dumps(data, separators=(",", ":"))))
        except DomainError as exc:
            log.info("cost message not delivered", extra={"station_id": station_id,
                                                          "reason": str(exc)})
            return
        if outcome.status in _UNSUPPORTED:
            self._unsupported.add(station_id)

    async def _transaction(self, station_id: str, reference: str) -> Transaction | None:
        return await self.storage.read(
            lambda r: r.get_transaction_by_reference(station_id, reference))

    async def authorized_16(self, station_id: str, connector_id: int | None, id_tag: str) -> None:
        text = await self.billing.tariff_message(station_id, connector_id, id_tag)
        if text is not None:
            await self._send_16(station_id, "SetUserPrice", {"idToken": id_tag, "priceText": text})

    async def metered_16(self, station_id: str, reference: str, at: datetime | None) -> None:
        txn = await self._transaction(station_id, reference)
        if txn is None or not self._due(txn.id):
            return
        cost = await self.billing.current_price(txn.id)
        if cost is None:
            return
        total = cost.total_cost.rounded(cost.currency).incl_vat
        last = cost.periods[-1] if cost.periods else None
        await self._send_16(station_id, "RunningCost", {
            "transactionId": int(reference) if reference.isdigit() else reference,
            "timestamp": utc_z(at or self.clock()),
            "meterValue": int((txn.meter_start_wh or 0) + cost.total_energy_kwh * 1000),
            "cost": float(total),
            "state": "Idle" if last is not None and last.state == "PARKING" else "Charging",
        })

    async def stopped_16(self, station_id: str, reference: str) -> None:
        txn = await self._transaction(station_id, reference)
        if txn is None:
            return
        total = await self.billing.running_cost(txn.id)
        if total is None:
            return
        self._last_sent.pop(txn.id, None)
        await self._send_16(station_id, "FinalCost", {
            "transactionId": int(reference) if reference.isdigit() else reference,
            "cost": float(total),
            "priceText": f"Total {total} {self.billing.currency} incl. VAT",
        })

    async def updated_2x(self, station_id: str, txn: Transaction) -> None:
        """2.0.1 I02: CostUpdated with the running total incl. VAT."""
        if not self._due(txn.id):
            return
        total = await self.billing.running_cost(txn.id)
        if total is None:
            return
        try:
            await self.commands.execute(station_id, c.CostUpdated(
                transaction_id=txn.id, total_cost=Decimal(total)))
        except DomainError as exc:
            log.info("CostUpdated not delivered", extra={"station_id": station_id,
                                                         "reason": str(exc)})

