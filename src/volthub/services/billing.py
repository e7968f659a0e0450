"""Billing: a session's tariff snapshot, its timeline, running cost, and its CDRs (OCPI 2.2.1)."""

from __future__ import annotations

import logging
import re
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from volthub.domain.billing import CdrRecord, TransactionPricing
from volthub.domain.errors import Conflict, NotFound
from volthub.domain.model import ConnectorState, Location, MeterReading, Transaction
from volthub.domain.tariffs import Tariff, TariffDimension
from volthub.pricing.display import tariff_text
from volthub.pricing.engine import Phase, PricedPeriod, SessionCost, price_session
from volthub.pricing.money import Amount
from volthub.pricing.timeline import (
    ChargeState,
    ReservationSpan,
    SessionTimeline,
    TimelinePoint,
    charge_state_from_ocpp,
    linear_energy_wh,
)
from volthub.services.events import DomainEvents
from volthub.services.ports import Clock
from volthub.services.tariffs import resolve_tariff
from volthub.storage.interface import Repositories, Storage

log = logging.getLogger("volthub.billing")

ENERGY_REGISTER = "Energy.Active.Import.Register"
CURRENT_IMPORT = "Current.Import"
SERIES_HORIZON = timedelta(hours=48)  # feed prices fixed with the session when it starts
VOLUME = Decimal("0.0001")  # OCPI numbers: 4 decimals (types §number)
_NOT_EMI3 = re.compile(r"[^A-Za-z0-9]")


def emi3_evse_id(country_code: str, party_id: str, station_id: str, evse_id: int) -> str:
    """CONTRACT.md: `{CC}*{PARTY}*E{station_id}*{evse_id}`, eMI3 alphabet only."""
    return f"{country_code}*{party_id}*E{_NOT_EMI3.sub('', station_id)}*{evse_id}"


def _volume(value: Decimal) -> float:
    return float(value.quantize(VOLUME, ROUND_HALF_UP))


def _price(amount: Amount, currency: str) -> dict[str, float]:
    rounded = amount.rounded(currency)
    return {"excl_vat": float(rounded.excl_vat), "incl_vat": float(rounded.incl_vat)}


def _zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        log.warning("unknown time zone, using UTC", extra={"time_zone": name})
        return ZoneInfo("UTC")


def build_timeline(txn: Transaction, readings: Sequence[MeterReading],
                   states: Sequence[tuple[datetime, str]], end: datetime,
                   reservation: ReservationSpan | None = None) -> SessionTimeline:
    """The session as the engine prices it: energy from the register (relative to the start),
    charging/parking from reported states, current from Current.Import summed over phases."""
    start = txn.started_at
    end = max(end, start)
    register = sorted(
        ((r.timestamp, Decimal(str(r.value))) for r in readings
         if r.measurand == ENERGY_REGISTER and r.phase is None and r.value is not None
         and start <= r.timestamp <= end),
        key=lambda x: x[0])
    if txn.meter_start_wh is not None:
        base = Decimal(txn.meter_start_wh)
    else:
        base = register[0][1] if register else Decimal(0)
    anchors: list[tuple[datetime, Decimal]] = [(start, Decimal(0))]
    anchors += [(at, value - base) for at, value in register if at > start]
    if txn.meter_stop_wh is not None and txn.stopped_at is not None:
        anchors = [a for a in anchors if a[0] < end] + [(end, Decimal(txn.meter_stop_wh) - base)]
    currents: dict[datetime, Decimal] = {}
    for r in readings:
        if r.measurand == CURRENT_IMPORT and r.value is not None and start <= r.timestamp <= end:
            currents[r.timestamp] = currents.get(r.timestamp, Decimal(0)) + Decimal(str(r.value))
    state_changes = sorted(
        ((at, s) for at, raw in states if (s := charge_state_from_ocpp(raw)) is not None
         and at <= end), key=lambda x: x[0])
    candidates = {start, *(a for a, _ in anchors), *currents,
                  *(max(at, start) for at, _ in state_changes)}
    instants = sorted(i for i in candidates if start <= i < end) or [start]
    anchor_times, anchor_wh = [a for a, _ in anchors], [wh for _, wh in anchors]
    state_times = [at for at, _ in state_changes]
    current_times = sorted(currents)

    def energy_at(at: datetime) -> Decimal:
        return linear_energy_wh(anchor_times, anchor_wh, at)

    points = []
    for at in instants:
        i = bisect_right(state_times, at) - 1
        state = state_changes[i][1] if i >= 0 else ChargeState.CHARGING
        # Before the first current reading, that reading stands for the start.
        j = max(bisect_right(current_times, at) - 1, 0)
        current = currents[current_times[j]] if current_times else None
        points.append(TimelinePoint(at, energy_at(at), state, current))
    if end > points[-1].at:
        points.append(TimelinePoint(end, energy_at(end), points[-1].state, points[-1].current_a))
    return SessionTimeline(tuple(points), end, reservation)


@dataclass(slots=True)
class CdrIssue:
    record: CdrRecord
    created: bool


class BillingService:
    """Prices sessions with the tariff valid when they started and issues their CDRs."""

    def __init__(self, storage: Storage, clock: Clock, currency: str, country_code: str,
                 party_id: str) -> None:
        self.storage = storage
        self.clock = clock
        self.currency = currency
        self.country_code = country_code
        self.party_id = party_id
        self.events = DomainEvents()

    # -- the session's snapshot ----------------------------------------------------------
    async def _snapshot(self, repos: Repositories, txn: Transaction) -> TransactionPricing | None:
        existing = await repos.get_transaction_pricing(txn.id)
        if existing is not None:
            return existing
        token = await repos.get_token(txn.id_token) if txn.id_token else None
        tariff = await resolve_tariff(repos, txn.station_id, txn.evse_id,
                                      token.group_id if token else None, txn.started_at)
        if tariff is None:
            return None
        station = await repos.get_station(txn.station_id)
        location = await repos.get_location(station.location_id) \
            if station and station.location_id else None
        series = {feed: await repos.list_feed_prices(feed, txn.started_at,
                                                     txn.started_at + SERIES_HORIZON)
                  for feed in sorted(tariff.feed_ids())}
        pricing = TransactionPricing(txn.id, tariff, location.time_zone if location and
                                     location.time_zone else "UTC", self.clock(), series)
        await repos.insert_transaction_pricing(pricing)
        return await repos.get_transaction_pricing(txn.id)

    async def session_started(self, txn: Transaction) -> None:
        """Fix the tariff (and feed prices known now) for this session."""
        await self.storage.write(lambda r: self._snapshot(r, txn))

    async def _extend_series(self, repos: Repositories, pricing: TransactionPricing,
                             end: datetime) -> None:
        """Add feed prices for hours past the snapshot; prices already kept never change."""
        changed = False
        for feed in pricing.tariff.feed_ids():
            kept = pricing.series.setdefault(feed, [])
            covered = max((p.ends_at for p in kept), default=None)
            start = covered or end - SERIES_HORIZON
            if end <= start:
                continue
            fresh = [p for p in await repos.list_feed_prices(feed, start, end)
                     if p.starts_at >= start]
            if fresh:
                kept.extend(fresh)
                changed = True
        if changed:
            await repos.update_pricing_series(pricing.transaction_id, pricing.series)

    # -- charge states ---------------------------------------------------------------------
    async def connector_status(self, state: ConnectorState) -> None:
        """1.6 StatusNotification during a transaction: Charging vs SuspendedEV is TIME vs
        PARKING_TIME. (2.x reports chargingState in TransactionEvent instead.)"""
        if charge_state_from_ocpp(state.status or "") is None or not state.evse_id:
            return
        at = state.status_at or self.clock()
        status = state.status or ""

        async def op(repos: Repositories) -> None:
            txn = await repos.active_transaction_on(state.station_id, state.evse_id)
            if txn is not None:
                await repos.insert_charge_state(txn.id, max(at, txn.started_at), status)

        await self.storage.write(op)

    # -- pricing ---------------------------------------------------------------------------
    async def _price(
        self, repos: Repositories, txn: Transaction, end: datetime,
        tariff: Tariff | None = None, need_timeline: bool = False,
    ) -> tuple[SessionCost | None, Tariff | None, SessionTimeline, str]:
        pricing = await self._snapshot(repos, txn)
        if pricing is None and tariff is None and not need_timeline:
            # Nothing to price: skip reading the session's meter values (running cost path).
            idle = SessionTimeline((), txn.started_at,
                                   ReservationSpan(txn.started_at, txn.started_at))
            return None, None, idle, "UTC"
        readings = await repos.list_readings(txn.id)
        states = await repos.list_charge_states(txn.id)
        reservation = None
        if txn.reservation_id is not None:
            held = await repos.get_reservation(txn.reservation_id)
            if held is not None and held.created_at is not None and held.created_at < txn.started_at:
                reservation = ReservationSpan(held.created_at, txn.started_at)
        timeline = build_timeline(txn, readings, states, end, reservation)
        zone_name = pricing.time_zone if pricing else "UTC"
        if tariff is None and pricing is not None:
            await self._extend_series(repos, pricing, end)
            tariff = pricing.tariff
        if tariff is None:
            return None, None, timeline, zone_name
        series = pricing.series if pricing else {}
        return price_session(tariff, timeline, _zone(zone_name), series), tariff, timeline, \
            zone_name

    async def running_cost(self, transaction_id: int) -> Decimal | None:
        """Cost so far incl. VAT, rounded to the currency (the final cost once a CDR exists)."""

        async def op(repos: Repositories) -> Decimal | None:
            issued = [c for c in await repos.cdrs_of_transaction(transaction_id) if not c.credit]
            if issued:
                # An unpriced session is not a free one (2.0.1 TransactionEventResponse
                # totalCost: omitted = not free; 0.00 = free): no tariff, no cost.
                return issued[-1].total_cost_incl_vat if issued[-1].document["ocpi"]["tariffs"] \
                    else None
            txn = await repos.get_transaction(transaction_id)
            if txn is None:
                return None
            cost, tariff, _, _ = await self._price(repos, txn, txn.stopped_at or self.clock())
            if cost is None or tariff is None:
                return None
            return cost.total_cost.rounded(tariff.currency).incl_vat

        return await self.storage.write(op)

    async def current_price(self, transaction_id: int) -> SessionCost | None:
        async def op(repos: Repositories) -> SessionCost | None:
            txn = await repos.get_transaction(transaction_id)
            if txn is None:
                raise NotFound(f"transaction {transaction_id}")
            cost, _, _, _ = await self._price(repos, txn, txn.stopped_at or self.clock())
            return cost

        return await self.storage.write(op)

    # -- CDRs ------------------------------------------------------------------------------
    async def issue_cdr(self, transaction_id: int) -> CdrIssue | None:
        """The CDR of a finished transaction; issued once, whatever calls first."""

        async def op(repos: Repositories) -> CdrIssue | None:
            existing = await repos.cdrs_of_transaction(transaction_id)
            if existing:
                return CdrIssue(existing[0], created=False)
            txn = await repos.get_transaction(transaction_id)
            if txn is None or txn.stopped_at is None:
                return None
            record = await self._build_cdr(repos, txn, str(txn.id))
            created = await repos.insert_cdr(record)
            return CdrIssue(record, created)

        issue = await self.storage.write(op)
        if issue is not None and issue.created:
            self.events.emit("cdr_issued", issue.record)
        return issue

    async def session_ended(self, txn: Transaction) -> None:
        try:
            await self.issue_cdr(txn.id)
        except Exception:
            # The sweep issues it later; a finished session never stays without a CDR.
            log.exception("CDR not issued yet", extra={"transaction_id": txn.id})

    async def sweep(self, limit: int = 200) -> int:
        """CDRs for finished transactions that have none (after a restart, a late stop...)."""
        pending = await self.storage.read(lambda r: r.completed_transactions_without_cdr(limit))
        issued = 0
        for transaction_id in pending:
            result = await self.issue_cdr(transaction_id)
            issued += bool(result and result.created)
        return issued

    async def credit(self, cdr_id: str, reissue: bool, tariff_id: str | None,
                     remark: str | None) -> tuple[CdrRecord, CdrRecord | None]:
        """Credit a CDR (mod_cdrs §Credit CDRs) and optionally issue its replacement."""

        async def op(repos: Repositories) -> tuple[CdrRecord, CdrRecord | None]:
            original = await repos.get_cdr(cdr_id)
            if original is None:
                raise NotFound(f"cdr {cdr_id}")
            if original.credit:
                raise Conflict(f"cdr {cdr_id} is a credit CDR itself")
            credit_id = f"{cdr_id}-C"
            if await repos.get_cdr(credit_id) is not None:
                raise Conflict(f"cdr {cdr_id} was credited before ({credit_id})")
            credit = self._credit_of(original, credit_id, remark)
            await repos.insert_cdr(credit)
            replacement = None
            if reissue:
                if original.transaction_id is None:
                    raise Conflict(f"cdr {cdr_id} has no transaction to price again")
                txn = await repos.get_transaction(original.transaction_id)
                if txn is None or txn.stopped_at is None:
                    raise Conflict(f"cdr {cdr_id}: its transaction is gone or not finished")
                tariff = None
                if tariff_id is not None:
                    tariff = await repos.get_tariff(tariff_id)
                    if tariff is None:
                        raise NotFound(f"tariff {tariff_id}")
                issued = [c for c in await repos.cdrs_of_transaction(txn.id) if not c.credit]
                replacement = await self._build_cdr(repos, txn, f"{txn.id}-{len(issued) + 1}",
                                                    tariff)
                await repos.insert_cdr(replacement)
            return credit, replacement

        credit, replacement = await self.storage.write(op)
        self.events.emit("cdr_issued", credit)
        if replacement is not None:
            self.events.emit("cdr_issued", replacement)
        return credit, replacement

    def _credit_of(self, original: CdrRecord, credit_id: str, remark: str | None) -> CdrRecord:
        ocpi = dict(original.document["ocpi"])
        for key, value in list(ocpi.items()):
            if key.startswith("total_") and key.endswith("_cost") and isinstance(value, dict):
                ocpi[key] = {k: -v for k, v in value.items()}
        now = self.clock()
        ocpi.update(id=credit_id, credit=True, credit_reference_id=original.id,
                    last_updated=utc_z(now))
        if remark:
            ocpi["remark"] = remark[:255]
        return CdrRecord(
            id=credit_id, transaction_id=original.transaction_id, station_id=original.station_id,
            location_id=original.location_id, id_token=original.id_token,
            start_date_time=original.start_date_time, end_date_time=original.end_date_time,
            currency=original.currency, total_cost_excl_vat=-original.total_cost_excl_vat,
            total_cost_incl_vat=-original.total_cost_incl_vat,
            total_energy_kwh=original.total_energy_kwh, credit=True,
            credit_reference_id=original.id, created_at=now,
            document={"ocpi": ocpi, "breakdown": original.document.get("breakdown", [])},
        )

    async def _build_cdr(self, repos: Repositories, txn: Transaction, cdr_id: str,
                         tariff: Tariff | None = None) -> CdrRecord:
        end = txn.stopped_at or self.clock()
        cost, used, timeline, _ = await self._price(repos, txn, end, tariff, need_timeline=True)
        station = await repos.get_station(txn.station_id)
        location = await repos.get_location(station.location_id) \
            if station and station.location_id else None
        connector = next((c for c in await repos.list_connectors([txn.station_id])
                          if c.evse_id == txn.evse_id), None)
        token = await repos.get_token(txn.id_token) if txn.id_token else None
        currency = used.currency if used else self.currency
        now = self.clock()
        start = timeline.reservation.start if timeline.reservation else txn.started_at
        ocpi: dict[str, Any] = {
            "country_code": self.country_code,
            "party_id": self.party_id,
            "id": cdr_id,
            "start_date_time": utc_z(start),
            "end_date_time": utc_z(end),
            "session_id": str(txn.id),
            "cdr_token": {
                "country_code": self.country_code,
                "party_id": self.party_id,
                "uid": txn.id_token or "#NA",
                "type": _token_type(token.type.value if token else txn.id_token_type),
                "contract_id": txn.id_token or "#NA",
            },
            "auth_method": "COMMAND" if txn.remote_start_id is not None else "WHITELIST",
            "cdr_location": _cdr_location(location, txn, connector, self.country_code,
                                          self.party_id),
            "currency": currency,
            "tariffs": [used.model_dump(mode="json", exclude_none=True)] if used else [],
            "charging_periods": _charging_periods(cost, timeline, used),
            "total_cost": _price(cost.total_cost, currency) if cost else
            {"excl_vat": 0.0, "incl_vat": 0.0},
            "total_energy": _volume(cost.total_energy_kwh if cost else
                                    _energy_kwh(timeline)),
            "total_time": _volume(Decimal((end - txn.started_at).total_seconds()) / 3600),
            "last_updated": utc_z(now),
        }
        if cost is not None:
            optional = {
                "total_fixed_cost": cost.fixed_cost, "total_energy_cost": cost.energy_cost,
                "total_time_cost": cost.time_cost, "total_parking_cost": cost.parking_cost,
                "total_reservation_cost": cost.reservation_cost,
            }
            for key, amount in optional.items():
                if not amount.is_zero or key in ("total_energy_cost", "total_time_cost"):
                    ocpi[key] = _price(amount, currency)
            ocpi["total_parking_time"] = _volume(cost.total_parking_time_h)
        signed = _signed_data(await repos.list_readings(txn.id))
        if signed is not None:
            ocpi["signed_data"] = signed
        remark = f"stopped: {txn.stop_reason}" if txn.stop_reason else None
        if used is None:
            remark = "no tariff applied" + (f"; {remark}" if remark else "")
        if remark:
            ocpi["remark"] = remark[:255]
        total = cost.total_cost.rounded(currency) if cost else Amount()
        return CdrRecord(
            id=cdr_id, transaction_id=txn.id, station_id=txn.station_id,
            location_id=location.id if location else None, id_token=txn.id_token,
            start_date_time=start, end_date_time=end, currency=currency,
            total_cost_excl_vat=total.excl_vat, total_cost_incl_vat=total.incl_vat,
            total_energy_kwh=(cost.total_energy_kwh if cost else _energy_kwh(timeline))
            .quantize(VOLUME, ROUND_HALF_UP),
            credit=False, credit_reference_id=None, created_at=now,
            document={"ocpi": ocpi, "breakdown": _breakdown(cost),
                      "bounded_by": cost.bounded_by if cost else None},
        )

    async def tariff_message(self, station_id: str, evse_id: int | None,
                             id_token: str) -> str | None:
        """The price a driver sees on authorizing (2.x personalMessage, 1.6 SetUserPrice)."""

        async def op(repos: Repositories) -> Tariff | None:
            token = await repos.get_token(id_token)
            return await resolve_tariff(repos, station_id, evse_id,
                                        token.group_id if token else None, self.clock())

        tariff = await self.storage.read(op)
        return tariff_text(tariff) if tariff is not None else None

    # -- listing ---------------------------------------------------------------------------
    async def get(self, cdr_id: str) -> CdrRecord:
        record = await self.storage.read(lambda r: r.get_cdr(cdr_id))
        if record is None:
            raise NotFound(f"cdr {cdr_id}")
        return record

    async def list_page(self, station_id: str | None, date_from: datetime | None,
                   date_to: datetime | None, limit: int | None,
                   offset: int) -> tuple[list[CdrRecord], int]:
        return await self.storage.read(
            lambda r: r.list_cdrs(station_id, date_from, date_to, limit, offset))

    async def of_transaction(self, transaction_id: int) -> list[CdrRecord]:
        return await self.storage.read(lambda r: r.cdrs_of_transaction(transaction_id))


def utc_z(at: datetime) -> str:
    """OCPI DateTime: UTC with Z."""
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _energy_kwh(timeline: SessionTimeline) -> Decimal:
    if not timeline.points:
        return Decimal(0)
    return (timeline.points[-1].energy_wh - timeline.points[0].energy_wh) / 1000


def _token_type(ocpp_type: str | None) -> str:
    """OCPI TokenType from the OCPP id token type."""
    return {"ISO14443": "RFID", "ISO15693": "RFID", "eMAID": "APP_USER", "Central": "APP_USER",
            "NoAuthorization": "AD_HOC_USER"}.get(ocpp_type or "ISO14443", "OTHER")


def _cdr_location(location: Location | None, txn: Transaction, connector: ConnectorState | None,
                  country_code: str, party_id: str) -> dict[str, Any]:
    """CdrLocation as at the session; `#NA` where the station belongs to no location."""
    na = "#NA"
    data: dict[str, Any] = {
        "id": location.id if location else na,
        "address": location.address if location else na,
        "city": location.city if location else na,
        "country": location.country if location else na,
        "coordinates": {
            "latitude": f"{location.latitude:.6f}" if location else "0.000000",
            "longitude": f"{location.longitude:.6f}" if location else "0.000000",
        },
        "evse_uid": f"{txn.station_id}-{txn.evse_id}",
        "evse_id": emi3_evse_id(country_code, party_id, txn.station_id, txn.evse_id),
        "connector_id": str(txn.connector_id),
        "connector_standard": (connector.standard if connector and connector.standard
                               else "IEC_62196_T2"),
        "connector_format": connector.format if connector and connector.format else "SOCKET",
        "connector_power_type": (connector.power_type if connector and connector.power_type
                                 else "AC_3_PHASE"),
    }
    if location is not None:
        data["name"] = location.name
        if location.postal_code:
            data["postal_code"] = location.postal_code
    return data


def _period_dimensions(p: PricedPeriod) -> list[dict[str, Any]]:
    hours = p.duration_s / 3600
    if p.phase is not Phase.SESSION:
        return [{"type": "RESERVATION_TIME", "volume": _volume(hours)}]
    dims: list[dict[str, Any]] = [{"type": "ENERGY", "volume": _volume(p.energy_wh / 1000)},
            {"type": "PARKING_TIME" if p.state is ChargeState.PARKING else "TIME",
             "volume": _volume(hours)}]
    for kind, value in (("MIN_POWER", p.min_power_kw), ("MAX_POWER", p.max_power_kw),
                        ("MIN_CURRENT", p.min_current_a), ("MAX_CURRENT", p.max_current_a)):
        if value is not None:
            dims.append({"type": kind, "volume": _volume(value)})
    return dims


def _charging_periods(cost: SessionCost | None, timeline: SessionTimeline,
                      tariff: Tariff | None) -> list[dict[str, Any]]:
    if cost is not None and cost.periods:
        return [{"start_date_time": utc_z(p.start), "dimensions": _period_dimensions(p),
                 **({"tariff_id": tariff.id} if tariff and p.components else {})}
                for p in cost.periods]
    # No tariff: one period with what was measured (a CDR needs at least one period).
    start = timeline.points[0].at if timeline.points else timeline.end
    hours = Decimal((timeline.end - start).total_seconds()) / 3600
    return [{"start_date_time": utc_z(start), "dimensions": [
        {"type": "ENERGY", "volume": _volume(_energy_kwh(timeline))},
        {"type": "TIME", "volume": _volume(hours)}]}]


def _breakdown(cost: SessionCost | None) -> list[dict[str, Any]]:
    """Every cost line, exact (volthub's own audit trail beside the OCPI CDR)."""
    if cost is None:
        return []
    unit = {TariffDimension.ENERGY: "kWh", TariffDimension.FLAT: "session",
            TariffDimension.TIME: "h", TariffDimension.PARKING_TIME: "h"}
    return [{
        "period_start": utc_z(p.start), "phase": p.phase.value, "dimension": line.dimension.value,
        "quantity": str(line.quantity), "unit": unit[line.dimension],
        "unit_price": str(line.unit_price), "vat": str(line.vat) if line.vat is not None else None,
        "cost_excl_vat": str(line.cost.excl_vat), "cost_incl_vat": str(line.cost.incl_vat),
    } for p in cost.periods for line in p.lines]


def _signed_data(readings: Sequence[MeterReading]) -> dict[str, Any] | None:
    """Signed meter values (e.g. OCMF) travel with the CDR for Eichrecht checks."""
    signed = [r for r in readings if r.signed_data]
    if not signed:
        return None
    nature = {"Transaction.Begin": "Start", "Transaction.End": "End"}
    return {
        "encoding_method": (signed[0].format or "SignedData")[:36],
        "signed_values": [{"nature": nature.get(r.context or "", "Intermediate"),
                           "plain_data": r.raw_value[:5000], "signed_data": r.signed_data[:5000]}
                          for r in signed if r.signed_data],
    }


