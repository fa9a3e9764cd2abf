"""Fair admission of step scripts: short scripts keep capacity while long ones run (SCRIPT-6).

The worker pool used to be first-in-first-out with as many workers as CPUs,
so eight runaway scripts made an unrelated one-line script wait seconds. The
policy here is **reserved capacity with demotion**, chosen because it needs
no cooperation from the script (Lua cannot be suspended from outside, and a
killed script would lose its work), costs nothing for ordinary flows, and
bounds both latency and the number of processes:

- Every running script is *short* or *long*. A script is long when it has
  run for more than ``slow_after`` (50 ms by default; it is *demoted* while
  running) or when the same script (same source and arguments) was long last
  time; a later short run makes it short again.
- At most ``general`` (the CPU count) long scripts compute at once. A
  script demoted while that many are computing is **paused** (SIGSTOP; its
  time limit is CPU time and its watchdog deadline moves by the pause) and
  resumed, oldest first, when a long one ends; new long runs start only when
  no paused one waits. So long scripts get the CPUs as a first-in-first-out
  queue got them before, at full speed.
- Short scripts may use ``general + reserve`` admissions whatever the long
  ones hold; in all at most ``2 x (general + reserve)`` runs (processes)
  exist. Waiting short runs are admitted before waiting long ones.

So however many runaway scripts are started, copies or distinct, at most
``general`` of them compute; the others wait or sit paused, while trivial
scripts go straight through. Only a flood of new long scripts, more than the
capacity within ``slow_after``, can make short ones wait, and then for no
longer than the script time limit.

Thread-safe: engines on different event loops may share one gate (tests do);
a waiting run is woken on its own loop.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import OrderedDict, deque
from typing import Final, Literal, Protocol

__all__ = ["FairGate", "Ticket"]

Lane = Literal["short", "long"]


class Pausable(Protocol):
    """The worker running a script: it can be stopped and continued."""

    def pause(self) -> None: ...

    def resume(self) -> None: ...


_REMEMBERED: Final = 4096


class Ticket:
    """One admitted script run."""

    __slots__ = ("admitted", "demoted", "gate", "key", "lane", "started", "worker")

    def __init__(self, gate: FairGate, key: str, lane: Lane) -> None:
        self.gate = gate
        self.key = key
        self.lane: Lane = lane
        self.demoted = False
        self.admitted = False
        self.started = 0.0
        self.worker: Pausable | None = None

    @property
    def long(self) -> bool:
        """Admitted as a long script (known to have run long before)."""
        return self.lane == "long" and not self.demoted

    def demote(self, worker: Pausable) -> None:
        """The script has run past ``slow_after`` in ``worker``: it is long from now on."""
        if self.lane == "short":
            self.lane = "long"
            self.demoted = True
            self.worker = worker
            self.gate._demoted(self)

    def leave(self) -> None:
        """The run is over (done, failed or cancelled)."""
        self.gate._leave(self)


class FairGate:
    """Admits script runs by lane; see the module docstring for the policy.

    Args:
        general: Admissions long scripts may hold (the CPU count).
        reserve: Extra admissions only short scripts may use.
        slow_after: Seconds after which a running script counts as long.
    """

    def __init__(self, general: int, reserve: int, slow_after: float) -> None:
        self.slow_after = slow_after
        self.general = max(1, general)
        self.reserve = max(0, reserve)
        self.capacity = 2 * (self.general + self.reserve)
        self.running: dict[Lane, int] = {"short": 0, "long": 0}
        self._waiting: dict[Lane, deque[tuple[asyncio.Future[None], Ticket]]] = {
            "short": deque(),
            "long": deque(),
        }
        self._long_keys: OrderedDict[str, None] = OrderedDict()
        self.paused: deque[Ticket] = deque()
        self._lock = threading.RLock()

    def known_long(self, key: str) -> bool:
        """True if the script ran long last time."""
        return key in self._long_keys

    def _can(self, lane: Lane) -> bool:
        short, long = self.running["short"], self.running["long"]
        if short + long >= self.capacity:
            return False
        if lane == "long":
            return not self.paused and long < self.general
        return short < self.general + self.reserve

    async def enter(self, key: str) -> Ticket:
        """Wait for admission of one run of script ``key``."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        with self._lock:
            lane: Lane = "long" if key in self._long_keys else "short"
            ticket = Ticket(self, key, lane)
            queue = self._waiting[lane]
            free = not queue and (lane == "short" or not self._waiting["short"])
            if free and self._can(lane):
                self._count_in(ticket)
                return ticket
            entry = (future, ticket)
            queue.append(entry)
        try:
            await future
        except asyncio.CancelledError:
            with self._lock:
                if ticket.admitted:
                    self._left(ticket)  # admitted just as it was cancelled
                else:
                    queue = self._waiting[ticket.lane]
                    if entry in queue:
                        queue.remove(entry)
            raise
        return ticket

    def _count_in(self, ticket: Ticket) -> None:
        self.running[ticket.lane] += 1
        ticket.admitted = True
        ticket.started = time.monotonic()

    def _admit(self) -> None:
        shorts = self._waiting["short"]
        if shorts and self._long_keys:
            # Waiting runs of scripts that turned out long meanwhile move to the long lane.
            for entry in [e for e in shorts if e[1].key in self._long_keys]:
                shorts.remove(entry)
                entry[1].lane = "long"
                self._waiting["long"].append(entry)
        for lane in ("short", "long"):
            queue = self._waiting[lane]
            while queue and self._can(lane):
                future, ticket = queue.popleft()
                loop = future.get_loop()
                if future.done() or loop.is_closed():
                    continue
                self._count_in(ticket)
                loop.call_soon_threadsafe(_resolve, future)
            if queue and lane == "short":
                return  # short ones still wait: long ones do not overtake them

    def _computing_long(self) -> int:
        return self.running["long"] - len(self.paused)

    def _demoted(self, ticket: Ticket) -> None:
        with self._lock:
            self._demote(ticket)

    def _demote(self, ticket: Ticket) -> None:
        self.running["short"] -= 1
        self.running["long"] += 1
        self._remember(ticket.key)
        if self._computing_long() > self.general and ticket.worker is not None:
            ticket.worker.pause()
            self.paused.append(ticket)
        self._admit()

    def _leave(self, ticket: Ticket) -> None:
        with self._lock:
            self._left(ticket)

    def _left(self, ticket: Ticket) -> None:
        if not ticket.admitted:
            return
        ticket.admitted = False
        if ticket in self.paused:  # cancelled while paused
            self.paused.remove(ticket)
        self.running[ticket.lane] -= 1
        while self.paused and self._computing_long() < self.general:
            resumed = self.paused.popleft()
            if resumed.worker is not None:
                resumed.worker.resume()
        elapsed = time.monotonic() - ticket.started
        if not ticket.demoted and elapsed < self.slow_after:
            self._long_keys.pop(ticket.key, None)  # it ran short this time
        self._admit()

    def _remember(self, key: str) -> None:
        self._long_keys[key] = None
        self._long_keys.move_to_end(key)
        while len(self._long_keys) > _REMEMBERED:
            self._long_keys.popitem(last=False)


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
