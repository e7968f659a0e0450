"""Station admission, boot, heartbeat, status and the notifications stations send about themselves."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from volthub.domain.enums import Admission, RegistrationStatus
from volthub.domain.model import ConnectorState, SecurityEvent, Station, StationIdentity
from volthub.services import security_profile
from volthub.services.events import DomainEvents
from volthub.services.ports import Clock
from volthub.storage.interface import Repositories, Storage


@dataclass(slots=True, frozen=True)
class AdmissionResult:
    """Whether a WebSocket handshake may proceed, and with which station record."""

    station: Station | None
    refusal_status: int | None = None  # HTTP status for a refused handshake
    reason: str = ""
    security_level: int = 0  # the security profile the connection offers


@dataclass(slots=True, frozen=True)
class BootResult:
    status: RegistrationStatus
    interval_s: int
    current_time: datetime


class StationService:
    """Rules about stations themselves, independent of their OCPP version."""

    def __init__(
        self,
        storage: Storage,
        clock: Clock,
        admission: Admission,
        heartbeat_interval_s: int,
        boot_retry_interval_s: int,
    ) -> None:
        self.storage = storage
        self.clock = clock
        self.admission = admission
        self.heartbeat_interval_s = heartbeat_interval_s
        self.boot_retry_interval_s = boot_retry_interval_s
        self.events = DomainEvents()

    async def admit(
        self, station_id: str, basic_auth: tuple[str, str | bytes] | None, secure_transport: bool,
        client_cert_cn: str | None = None,
    ) -> AdmissionResult:
        """Decide a handshake: known station's credentials, or the admission policy for a new one.

        `client_cert_cn` is the CN of the client certificate the TLS layer verified (None: no
        certificate). The connection must offer at least the station's security profile
        (services/security_profile.py); the profile it offers is in the result.
        """
        station = await self.storage.read(lambda r: r.get_station(station_id))
        if basic_auth is not None and basic_auth[0] != station_id:
            # A station authenticates as itself only: the Basic-auth user is its URL identity.
            await self.record_security_event(station_id, "InvalidChargePointIdentity",
                                             f"basic auth user {basic_auth[0]!r}")
            return AdmissionResult(None, 401, "basic auth user differs from station id")
        if client_cert_cn is not None and client_cert_cn != station_id:
            # Whitepaper A00.FR.405/407: the certificate must belong to this station.
            await self.record_security_event(
                station_id, security_profile.EVENT_BAD_CERTIFICATE,
                f"client certificate CN {client_cert_cn!r} is not the station identity")
            return AdmissionResult(None, 403, "client certificate CN differs from station id")
        if station is None:
            if self.admission is Admission.CLOSED:
                return AdmissionResult(None, 403, "unknown station")
            status = (
                RegistrationStatus.PENDING
                if self.admission is Admission.PENDING
                else RegistrationStatus.ACCEPTED
            )
            station = await self.storage.write(lambda r: self._register(r, station_id, status))
        certificate_ok = secure_transport and client_cert_cn == station_id
        if station.security_profile >= 3 and not certificate_ok:
            return await self._refuse_weaker(station_id, "connection without a client "
                                             "certificate of this station",
                                             security_profile.shortfall(3, 0))
        password_ok = False
        if station.password_hash is not None and not certificate_ok:
            if basic_auth is None or not security_profile.password_matches(
                    basic_auth[1], station.password_hash):
                await self.record_security_event(
                    station_id, "InvalidCentralSystemCredentials" if basic_auth else "AuthenticationMissing",
                    "wrong or missing password at handshake",
                )
                return AdmissionResult(None, 401, "wrong or missing password")
            password_ok = True
        level = security_profile.connection_level(secure_transport, certificate_ok, password_ok)
        refusal = security_profile.shortfall(station.security_profile, level)
        if refusal is not None:
            return await self._refuse_weaker(
                station_id, f"connection offers security profile {level}", refusal)
        return AdmissionResult(station, security_level=level)

    async def _refuse_weaker(
        self, station_id: str, offered: str, refusal: tuple[int, str] | None
    ) -> AdmissionResult:
        """A connection weaker than the station's profile (A00.FR.323: a security event)."""
        status, reason = refusal or (403, "connection below the station's security profile")
        await self.record_security_event(
            station_id, security_profile.EVENT_WEAKER_CONNECTION, f"{offered}: {reason}")
        return AdmissionResult(None, status, reason)

    async def _register(
        self, repos: Repositories, station_id: str, status: RegistrationStatus
    ) -> Station:
        existing = await repos.get_station(station_id)
        if existing is not None:  # another handshake registered it meanwhile
            return existing
        station = Station(id=station_id, registration_status=status, created_at=self.clock())
        await repos.insert_station(station)
        return station

    async def boot(self, station_id: str, identity: StationIdentity, version: str,
                   boot_reason: str | None = None) -> BootResult:
        now = self.clock()

        async def op(repos: Repositories) -> RegistrationStatus:
            station = await repos.get_station(station_id)
            fields: dict[str, object] = {
                "ocpp_version": version,
                "last_boot_at": now,
                "last_seen": now,
                "boot_reason": boot_reason,
            }
            fields.update({k: getattr(identity, k) for k in identity.__slots__})
            await repos.update_station(station_id, fields)
            return station.registration_status if station else RegistrationStatus.REJECTED

        status = await self.storage.write(op)
        interval = (
            self.heartbeat_interval_s
            if status is RegistrationStatus.ACCEPTED
            else self.boot_retry_interval_s
        )
        return BootResult(status=status, interval_s=interval, current_time=now)

    def seen(self, station_id: str, at: datetime) -> None:
        self.storage.write_later(lambda r: r.touch_station(station_id, at))

    def connected(self, station_id: str, version: str) -> None:
        now = self.clock()
        self.storage.write_later(
            lambda r: r.update_station(station_id, {"ocpp_version": version, "last_seen": now})
        )

    async def status_changed(self, state: ConnectorState) -> None:
        await self.storage.write(lambda r: r.upsert_connector_status(state))
        self.events.emit("connector_status", state)

    async def record_station_status(self, station_id: str, field: str, status: str) -> None:
        """Firmware, diagnostics and log upload progress, as last reported."""
        await self.storage.write(lambda r: r.update_station(station_id, {field: status}))

    async def reservation_ended(self, station_id: str, reservation_id: int, status: str) -> None:
        """A station says a reservation expired or was removed (2.0.1 H05)."""

        async def op(repos: Repositories) -> None:
            reservation = await repos.get_reservation(reservation_id)
            if reservation is not None and reservation.station_id == station_id:
                await repos.update_reservation_status(reservation_id, status)

        await self.storage.write(op)

    async def record_security_event(
        self, station_id: str, event_type: str, tech_info: str | None,
        timestamp: datetime | None = None, source: str = "csms",
    ) -> None:
        event = SecurityEvent(
            station_id=station_id,
            timestamp=timestamp or self.clock(),
            type=event_type,
            tech_info=tech_info,
            source=source,
        )
        await self.storage.write(lambda r: r.insert_security_event(event))

    async def certificate_requested(
        self, station_id: str, csr: str, certificate_type: str | None
    ) -> bool:
        """Keep a station's CSR unsigned. SignCertificate handlers call
        `volthub.ocpp.security.sign_certificate`, which signs it with the built-in CA and sends
        CertificateSigned after the answer."""
        now = self.clock()
        await self.storage.write(
            lambda r: r.insert_certificate_request(station_id, csr, certificate_type, now)
        )
        return True
