"""The composition root: builds storage, services and the gateway from Settings."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial

from volthub.config import Settings
from volthub.domain.model import Authorization
from volthub.ocpi.client import OcpiClient
from volthub.ocpi.hooks import ocpi_pushers, push_all_to
from volthub.ocpi.outbox import Outbox
from volthub.ocpi.registration import OcpiIdentity
from volthub.ocpi.roaming import Roaming
from volthub.ocpi.tokens_cpo import RealTimeAuthorizer
from volthub.ocpp.gateway import Gateway
from volthub.ocpp.versions import VersionAdapter, load_adapters
from volthub.services.authorization import ask_emsp, authorize
from volthub.services.billing import BillingService
from volthub.services.certificates import CertificateService
from volthub.services.commands import CommandService
from volthub.services.cost_display import CostDisplayService
from volthub.services.data_transfer import DataTransferRegistry
from volthub.services.ev_charging_needs import EvChargingNeedsService
from volthub.services.events import DomainEvents
from volthub.services.iso15118 import Iso15118Service
from volthub.services.locations import LocationService
from volthub.services.passwords import hash_token
from volthub.services.ports import Clock, CostProvider, RoamingAuthorizer, utc_now
from volthub.services.price_feeds import PriceFeedService
from volthub.services.records import RecordService
from volthub.services.station_admin import StationAdminService
from volthub.services.station_reports import StationReportService
from volthub.services.stations import StationService
from volthub.services.tariffs import TariffService
from volthub.services.tokens import TokenService
from volthub.services.transaction_events import TransactionEventService
from volthub.services.transactions import TransactionService
from volthub.storage.interface import Repositories
from volthub.storage.sql.database import SqlStorage, create_engine
from volthub.storage.sql.migrate import upgrade

log = logging.getLogger("volthub")

ADMIN_TOKEN_SETTING = "admin_token_sha256"


@dataclass(slots=True)
class Services:
    storage: SqlStorage
    clock: Clock
    stations: StationService
    transactions: TransactionService
    commands: CommandService
    station_admin: StationAdminService
    tokens: TokenService
    locations: LocationService
    records: RecordService
    data_transfer: DataTransferRegistry
    certificates: CertificateService
    transaction_events: TransactionEventService
    reports: StationReportService
    ev_charging_needs: EvChargingNeedsService
    costs: CostProvider
    iso15118: Iso15118Service
    tariffs: TariffService
    price_feeds: PriceFeedService
    billing: BillingService
    cost_display: CostDisplayService
    events: DomainEvents = field(default_factory=DomainEvents)
    # OCPI CPO role: asks eMSPs about their tokens in real time (set by build_container).
    roaming_authorizer: RoamingAuthorizer | None = None

    async def authorize(self, id_token: str, at: datetime | None = None,
                        station_id: str | None = None) -> Authorization:
        """Authorize; may ask the token's eMSP (network): for Authorize messages, not inside
        a transaction's write (StartTransaction/TransactionEvent use the stored answer)."""
        now = at or self.clock()

        async def decide(r: Repositories) -> tuple[Authorization, bool]:
            local = await authorize(r, id_token, now)
            return local, self.roaming_authorizer is not None and \
                await ask_emsp(r, id_token, local, now)

        local, ask = await self.storage.read(decide)
        if not ask or self.roaming_authorizer is None:
            return local
        remote = await self.roaming_authorizer.authorize(id_token, station_id)
        return remote if remote is not None else local


@dataclass(slots=True)
class Container:
    settings: Settings
    services: Services
    gateway: Gateway
    adapters: dict[str, VersionAdapter]
    admin_token_sha256: str
    roaming: Roaming


async def build_container(settings: Settings, clock: Clock = utc_now) -> Container:
    """Migrate the database and assemble everything; call `close_container` to stop."""
    engine = create_engine(settings.database_url)
    await upgrade(engine)
    storage = SqlStorage(engine)
    await storage.start()
    gateway = Gateway()
    stations = StationService(storage, clock, settings.station_admission,
                              settings.heartbeat_interval_s, settings.boot_retry_interval_s)
    billing = BillingService(storage, clock, settings.currency, settings.ocpi_country_code,
                             settings.ocpi_party_id)
    commands = CommandService(storage, clock, gateway)
    services = Services(
        storage=storage,
        clock=clock,
        stations=stations,
        transactions=TransactionService(storage, clock, stations, billing),
        commands=commands,
        station_admin=StationAdminService(storage, clock, gateway),
        tokens=TokenService(storage),
        locations=LocationService(storage),
        records=RecordService(storage),
        data_transfer=DataTransferRegistry(),
        certificates=CertificateService(storage, clock, settings.data_dir,
                                        settings.certificate_validity_days),
        transaction_events=TransactionEventService(storage, clock, billing),
        reports=StationReportService(storage, clock),
        ev_charging_needs=EvChargingNeedsService(storage, clock),
        costs=billing,
        iso15118=Iso15118Service.from_settings(settings, clock),
        tariffs=TariffService(storage, clock, settings.ocpi_country_code, settings.ocpi_party_id),
        price_feeds=PriceFeedService(storage, clock),
        billing=billing,
        cost_display=CostDisplayService(storage, clock, billing, commands,
                                        settings.cost_update_interval_s),
    )
    token_hash = await _admin_token_hash(storage, settings)
    roaming = build_roaming(settings, storage, clock)
    events = DomainEvents()
    for service in (services.stations, services.station_admin, services.locations,
                    services.tokens, services.tariffs, services.transactions,
                    services.transaction_events, services.billing):
        service.events = events
    services.events = events
    pushers = ocpi_pushers(roaming, services)
    for pusher in pushers:
        events.subscribe(pusher)
    roaming.registration.on_connected = partial(push_all_to, pushers)
    services.roaming_authorizer = RealTimeAuthorizer(roaming)
    roaming.services = services
    return Container(settings, services, gateway, load_adapters(), token_hash, roaming)


def build_roaming(settings: Settings, storage: SqlStorage, clock: Clock) -> Roaming:
    identity = OcpiIdentity(
        country_code=settings.ocpi_country_code.upper(), party_id=settings.ocpi_party_id.upper(),
        name=settings.ocpi_name,
        roles=tuple(r.strip().upper() for r in settings.ocpi_roles.split(",") if r.strip()))
    client = OcpiClient(settings.ocpi_timeout_s)
    outbox = Outbox(storage, clock, client, identity, settings.ocpi_retry_base_s,
                    settings.ocpi_retry_max_s, settings.ocpi_offline_after_failures)
    roaming = Roaming(storage, clock, identity, settings.public_url, client, outbox)
    roaming.token_whitelist = settings.ocpi_token_whitelist.upper()
    return roaming


async def _admin_token_hash(storage: SqlStorage, settings: Settings) -> str:
    """VOLTHUB_ADMIN_TOKEN, or a token generated on first start, stored hashed, printed once."""
    if settings.admin_token:
        return hash_token(settings.admin_token)
    stored = await storage.read(lambda r: r.get_setting(ADMIN_TOKEN_SETTING))
    if stored:
        return stored
    token = secrets.token_urlsafe(32)
    digest = hash_token(token)
    await storage.write(lambda r: r.set_setting(ADMIN_TOKEN_SETTING, digest))
    print(f"volthub: generated admin API token (shown once, keep it): {token}", flush=True)
    return digest


async def close_container(container: Container) -> None:
    await container.services.events.close()
    await container.gateway.close_all(1001, "server shutting down")
    await container.services.iso15118.aclose()
    await container.roaming.aclose()
    await container.services.storage.close()
