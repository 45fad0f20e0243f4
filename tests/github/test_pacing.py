"""Mutation pacing windows and the not-before gate, driven by a fake clock."""
import asyncio

from bot.github.pacing import Gate, MutationPacer, Window


class FakeClock:
    """A clock whose sleep advances time instantly; records every sleep."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


async def test_mutations_are_spaced_by_the_interval():
    clock = FakeClock()
    pacer = MutationPacer(clock=clock, sleep=clock.sleep, interval=1.0)
    sent = []
    for _ in range(5):
        await pacer.acquire()
        sent.append(clock())
    assert [b - a for a, b in zip(sent, sent[1:])] == [1.0, 1.0, 1.0, 1.0]


async def test_no_wait_after_a_quiet_period():
    clock = FakeClock()
    pacer = MutationPacer(clock=clock, sleep=clock.sleep, interval=1.0)
    await pacer.acquire()
    clock.now += 10
    assert await pacer.acquire() == 0
    assert clock.slept == []


async def test_per_minute_window_slides():
    clock = FakeClock()
    pacer = MutationPacer(clock=clock, sleep=clock.sleep, interval=0.0,
                          windows=(Window(80, 60.0), Window(500, 3600.0)))
    times = []
    for _ in range(81):
        await pacer.acquire()
        times.append(clock())
    assert times[79] == times[0]  # 80 at once are allowed
    assert times[80] == times[0] + 60.0  # the 81st waits for the first to leave the window
    # Any 60 s span holds at most 80 sends.
    assert all(times[i + 80] - times[i] >= 60.0 for i in range(len(times) - 80))


async def test_per_hour_window():
    clock = FakeClock()
    pacer = MutationPacer(clock=clock, sleep=clock.sleep, interval=1.0)
    times = []
    for _ in range(501):
        await pacer.acquire()
        times.append(clock())
    # One a second, the first 500 never reach the per-minute window (60 a minute < 80)...
    assert times[499] == times[0] + 499.0
    # ...and the 501st waits for the first to leave the hour window, not just for the interval.
    assert times[500] == times[0] + 3600.0


async def test_concurrent_mutations_queue_in_order():
    clock = FakeClock()
    pacer = MutationPacer(clock=clock, sleep=clock.sleep, interval=2.0)
    stamps: list[float] = []

    async def one() -> None:
        await pacer.acquire()
        stamps.append(clock())

    await asyncio.gather(*(one() for _ in range(4)))
    assert sorted(stamps) == [1000.0, 1002.0, 1004.0, 1006.0]


async def test_slot_is_not_early_when_sleep_does_not_advance_the_clock():
    now = [0.0]

    async def no_sleep(_: float) -> None:
        return None

    pacer = MutationPacer(clock=lambda: now[0], sleep=no_sleep, interval=1.0)
    await pacer.acquire()
    await pacer.acquire()
    # The planned slot was recorded, so the third waits relative to it, not to the frozen clock.
    assert pacer.next_slot(now[0]) == 2.0


def test_gate_never_shortens_a_known_wait():
    gate = Gate()
    gate.hold_until(50.0)
    gate.hold_until(20.0)
    assert gate.remaining(10.0) == 40.0
    assert gate.remaining(60.0) == 0.0
