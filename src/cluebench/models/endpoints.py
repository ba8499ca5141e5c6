"""Which endpoint an attempt goes to: least outstanding requests among the rested ones, at most
`capacity` in flight each, and endpoints that keep failing rest while the others take the traffic.

The state (in-flight counts, failures, rests) lives on an `EndpointPool` made for one batch inside
its event loop, not on the backend, so two batches can run at once without sharing counters.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

log = logging.getLogger("cluebench.models.openai_compat")


@dataclass(eq=False)
class Endpoint:
    url: str  # the real base URL (may carry credentials), used only to connect
    shown: str  # public_url(url): what messages and files say
    capacity: int
    in_flight: int = 0
    served: int = 0
    failures: int = 0  # consecutive
    resting_until: float = 0.0


class EndpointPool:
    def __init__(
        self,
        endpoints: list[Endpoint],
        *,
        drain_after_failures: int,
        drain_cooldown: float,
        rest_cap: float,
    ) -> None:
        self.endpoints = endpoints
        self.drain_after_failures = drain_after_failures
        self.drain_cooldown = drain_cooldown
        self.rest_cap = rest_cap  # the longest a server's Retry-After may rest an endpoint
        self._cond = asyncio.Condition()

    async def acquire(self) -> Endpoint:
        """The rested endpoint with a free slot and the fewest requests outstanding."""
        loop = asyncio.get_running_loop()
        async with self._cond:
            while True:
                now = loop.time()
                free = [
                    e for e in self.endpoints
                    if e.resting_until <= now and e.in_flight < e.capacity
                ]
                if free:
                    ep = min(free, key=lambda e: (e.in_flight, e.served))
                    ep.in_flight += 1
                    ep.served += 1
                    return ep
                rests = [e.resting_until - now for e in self.endpoints if e.resting_until > now]
                try:
                    await asyncio.wait_for(self._cond.wait(), min(rests) if rests else None)
                except TimeoutError:
                    pass

    async def release(
        self,
        ep: Endpoint,
        *,
        ok: bool,
        retry_after: float | None = None,
        endpoint_fault: bool = False,
    ) -> None:
        now = asyncio.get_running_loop().time()
        async with self._cond:
            ep.in_flight -= 1
            if ok:
                ep.failures = 0
            else:
                if retry_after is not None:  # 429: the server asked everyone to wait
                    ep.resting_until = max(ep.resting_until, now + min(retry_after, self.rest_cap))
                if endpoint_fault:
                    ep.failures += 1
                    # Draining shifts traffic to the others; with no other endpoint up, resting
                    # would only stall the run, so the per-request backoff alone applies then.
                    others_up = any(
                        e is not ep and e.resting_until <= now for e in self.endpoints
                    )
                    if (
                        others_up
                        and ep.failures >= self.drain_after_failures
                        and ep.resting_until <= now
                    ):
                        ep.resting_until = now + self.drain_cooldown
                        log.warning(
                            "endpoint %s drained for %g s after %d consecutive failures",
                            ep.shown, self.drain_cooldown, ep.failures,
                        )
            self._cond.notify_all()
