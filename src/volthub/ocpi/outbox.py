"""The durable push outbox: stored before sending, retried with backoff, in order per object."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta
from typing import Any

from volthub.domain.roaming import OutboxEntry, Partner, PartnerStatus
from volthub.ocpi.client import OcpiClient, PartnerUnreachable
from volthub.ocpi.registration import OcpiIdentity
from volthub.services.ports import Clock
from volthub.storage.interface import Storage

log = logging.getLogger("volthub.ocpi.outbox")

# Pushes fetched per round; each partner's are sent one after another, partners in parallel.
BATCH = 200
# Absolute URLs (a CommandResult to its response_url) carry this instead of a module name.
ABSOLUTE_URL = ""


class Outbox:
    """Stores pushes and delivers them; a partner that keeps failing is marked OFFLINE."""

    def __init__(self, storage: Storage, clock: Clock, client: OcpiClient,
                 identity: OcpiIdentity, retry_base_s: float = 2.0, retry_max_s: float = 300.0,
                 offline_after_failures: int = 3) -> None:
        self.storage = storage
        self.clock = clock
        self.client = client
        self.identity = identity
        self.retry_base_s = retry_base_s
        self.retry_max_s = retry_max_s
        self.offline_after_failures = offline_after_failures
        self._wakeup = asyncio.Event()
        # One delivery round at a time in this process: the background loop and an explicit
        # deliver_due() must not send the same entry twice. (Several nodes would need a claim
        # per entry, e.g. SELECT ... FOR UPDATE SKIP LOCKED; one node delivers today.)
        self._delivering = asyncio.Lock()

    async def push(self, partner_id: int, module: str, method: str, path: str, body: Any,
                   object_key: str, to_party: tuple[str, str] | None, role: str = "RECEIVER",
                   ) -> int:
        """Store one push (it is sent by `run`). `path` is appended to the partner's endpoint
        of `module`/`role`, or is a whole URL when module is ABSOLUTE_URL."""
        entry = OutboxEntry(id=0, partner_id=partner_id, module=module, role=role,
                            method=method, path=path, body=body, object_key=object_key,
                            to_country_code=to_party[0] if to_party else None,
                            to_party_id=to_party[1] if to_party else None)
        now = self.clock()
        entry_id = await self.storage.write(lambda r: r.enqueue_push(entry, now))
        self._wakeup.set()
        return entry_id

    def wake(self) -> None:
        self._wakeup.set()

    async def run(self) -> None:
        """Deliver forever: now, whenever a push is stored, and when a retry falls due."""
        while True:
            try:
                await self.deliver_due()
                next_due = await self.storage.read(lambda r: r.next_push_due_at())
            except Exception:
                log.exception("outbox round failed")
                next_due = None
            timeout = 30.0
            if next_due is not None:
                timeout = min(timeout, max(0.05, (next_due - self.clock()).total_seconds()))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), timeout)
            self._wakeup.clear()

    async def deliver_due(self) -> int:
        """Send every push whose turn has come; returns how many were delivered."""
        async with self._delivering:
            return await self._deliver_rounds()

    async def _deliver_rounds(self) -> int:
        delivered = 0
        # Each round delivers, refuses or defers every entry it fetched, so this ends.
        while due := await self.storage.read(lambda r: r.due_pushes(self.clock(), BATCH)):
            by_partner: dict[int, list[OutboxEntry]] = {}
            for entry in due:
                by_partner.setdefault(entry.partner_id, []).append(entry)
            results = await asyncio.gather(*(self._deliver_partner(pid, entries)
                                             for pid, entries in by_partner.items()))
            delivered += sum(results)
        return delivered

    async def _deliver_partner(self, partner_id: int, entries: list[OutboxEntry]) -> int:
        partner = await self.storage.read(lambda r: r.get_partner(partner_id))
        delivered = 0
        for entry in entries:
            outcome = await self._deliver(partner, entry)
            if outcome is None:  # partner down: its other pushes wait for the backoff
                return delivered
            delivered += outcome
        return delivered

    async def _deliver(self, partner: Partner | None, entry: OutboxEntry) -> int | None:
        """1 delivered, 0 refused for good, None partner unreachable."""
        if partner is None or partner.status in (PartnerStatus.SUSPENDED,
                                                 PartnerStatus.PLANNED) \
                or not partner.token_out:
            await self.storage.write(lambda r: r.push_failed(
                entry.id, "partner is not registered (suspended or unregistered)", None))
            return 0
        url = self._url(partner, entry)
        if url is None:
            await self.storage.write(lambda r: r.push_failed(
                entry.id, f"partner offers no {entry.module} {entry.role} endpoint", None))
            return 0
        to_party = (entry.to_country_code, entry.to_party_id) \
            if entry.to_country_code and entry.to_party_id else None
        try:
            reply = await self.client.request(
                entry.method, url, partner.token_out, body=entry.body,
                plain_token=partner.sends_plain_token,
                from_party=self.identity.party if entry.module != "credentials" else None,
                to_party=to_party)
        except PartnerUnreachable as exc:
            await self._partner_down(partner, entry, str(exc))
            return None
        if reply.ok:
            now = self.clock()
            await self.storage.write(lambda r: r.push_delivered(entry.id, now))
            if partner.failures or partner.status is PartnerStatus.OFFLINE:
                await self._partner_back(partner)
                partner.failures = 0
                partner.status = PartnerStatus.CONNECTED
            return 1
        if reply.http_status == 401 or (reply.status_code or 0) >= 3000:
            # Their server error, or our token is not (yet) known again: worth retrying.
            await self._partner_down(partner, entry, reply.describe())
            return None
        log.warning("partner refused a push", extra={"partner": partner.id, "push": entry.id,
                                                    "reply": reply.describe()})
        await self.storage.write(lambda r: r.push_failed(entry.id, reply.describe(), None))
        return 0

    @staticmethod
    def _url(partner: Partner, entry: OutboxEntry) -> str | None:
        if entry.module == ABSOLUTE_URL:
            return entry.path
        endpoint = partner.endpoint(entry.module, entry.role)
        if endpoint is None:
            return None
        if not entry.path:
            # A POST to the endpoint itself (mod_cdrs: {cdr_endpoint_url}) goes to the URL
            # exactly as the partner gave it: some serve it only with its trailing "/".
            return endpoint
        return endpoint.rstrip("/") + entry.path

    async def _partner_down(self, partner: Partner, entry: OutboxEntry, error: str) -> None:
        failures = partner.failures + 1
        delay = min(self.retry_max_s, self.retry_base_s * 2 ** min(failures - 1, 20))
        now = self.clock()
        retry_at = now + timedelta(seconds=delay)
        status = PartnerStatus.OFFLINE if failures >= self.offline_after_failures \
            else partner.status
        fields = {"failures": failures, "last_error": error[:2000], "status": status}

        async def op(r: Any) -> None:
            await r.push_failed(entry.id, error, retry_at)
            await r.defer_partner_pushes(partner.id, retry_at)
            await r.update_partner(partner.id, fields, now)

        await self.storage.write(op)
        partner.failures = failures
        partner.status = status
        log.info("push to partner failed, retrying", extra={
            "partner": partner.id, "push": entry.id, "retry_in_s": delay, "error": error})

    async def _partner_back(self, partner: Partner) -> None:
        now = self.clock()
        fields = {"failures": 0, "last_error": None, "status": PartnerStatus.CONNECTED}

        async def op(r: Any) -> None:
            await r.update_partner(partner.id, fields, now)
            await r.reschedule_partner_pushes(partner.id, now)

        await self.storage.write(op)
        log.info("partner reachable again", extra={"partner": partner.id})
