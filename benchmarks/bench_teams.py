"""Time drawing Teams cards, shortening a long one to 28 KB, and posting them to a webhook on this machine.

Run: `.venv/bin/python benchmarks/bench_teams.py [--runs 200]`

- a typical card (an exception report: counts, 1 critical failure, 3 late returns, 20 red indicators) and a digest
  in a bad week (600 late lines, so it must be shortened to 28 KB): CPU time to draw and encode each, and its size;
- posting: the transport against the tests' fake Workflows webhook on 127.0.0.1 (aiohttp, 202 Accepted), one card
  at a time to one webhook, so paced a quarter of a second apart as in production, and the same with the pacing
  left out (the request's own cost: a new connection per post, kept on purpose).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from fake_teams import running_fake_workflows  # noqa: E402

from bot.channels.teams import cards  # noqa: E402
from bot.channels.teams.transport import TeamsTransport, Webhook  # noqa: E402
from bot.outbox.card import CARD, Card, Count, Section  # noqa: E402
from bot.outbox.transport import Outbound  # noqa: E402

REPORT = Card(
    "Exception report: quarterly returns due 15 October 2025 (3 late, 20 red)",
    "20 red or amber indicators · 3 missing or late returns · 1 critical failure",
    counts=(Count("red", "■ RED", 20), Count("amber", "▲ AMBER", 4), Count("green", "● GREEN", 97)),
    sections=(Section("Critical performance failures (1)", ("One You Lifestyle Programmes: SS.7 User feedback "
                                                            "score: 6.98 (critical level < 7)",), "attention"),
              Section("Missing or late returns (3)", tuple(f"Contract {n}: quarterly monitoring return, Q2 2025-26, "
                                                           "due 15 October 2025: not received: 5 days overdue"
                                                           for n in range(3)), "warning"),
              Section("Red and amber indicators (20)", tuple(f"■ RED Contract {n}: 1.{n} An indicator's name of a "
                                                             "usual length: 45.5%, target ≥ 50%: 4.5 percentage "
                                                             "points off target" for n in range(20)))),
    note="See the report in kpibot.")
BAD_WEEK = Card("Weekly digest, week of 4 May 2026: 600 late returns, 29 red indicators",
                "What needs attention this week.", counts=(Count("red", "■ RED", 29),),
                sections=(Section("Late returns (600)", tuple(
                    f"Contract {n}: quarterly monitoring return for Q4 2025-26 (January 2026 to March 2026), due 15 "
                    f"April 2026, {n} days overdue; escalation level 1" for n in range(600)), "warning"),))


def cpu_ms(work, runs: int) -> list[float]:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(runs):
        start = time.process_time()
        work()
        times.append((time.process_time() - start) * 1000)
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=200)
    runs = parser.parse_args().runs
    for name, card in (("exception report", REPORT), ("digest, 600 late lines", BAD_WEEK)):
        body, shortened = cards.fitted(card)
        times = cpu_ms(lambda card=card: cards.fitted(card), runs)
        full = len(cards.encoded(cards.message(card)))
        print(f"{name}: {len(body):,} bytes posted ({full:,} in full{', shortened' if shortened else ''}); "
              f"draw + fit {statistics.median(times):.2f} ms median, p95 "
              f"{sorted(times)[int(len(times) * 0.95) - 1]:.2f} ms CPU")
    with running_fake_workflows() as fake:
        message = Outbound("council", REPORT.title, REPORT.plain(), headers={CARD: REPORT.to_json()})
        for label, sleep in (("paced (production)", time.sleep), ("pacing left out", lambda s: None)):
            sender = TeamsTransport({"council": Webhook("KPIBOT_TEAMS_URL_COUNCIL", fake.url())}, sleep=sleep,
                                    clock=time.monotonic if sleep is time.sleep else _Fast().clock)
            count = 20
            start, cpu = time.perf_counter(), time.process_time()
            for _ in range(count):
                sender.send(message)
            wall, used = time.perf_counter() - start, time.process_time() - cpu
            sender.close()
            print(f"post {count} cards to one webhook, {label}: {count / wall:.1f} posts/s, "
                  f"{used / count * 1000:.1f} ms CPU each (client and fake server in one process)")
        assert len(fake.delivered()) == 2 * count


class _Fast:
    """A clock that jumps a second per reading, so the pacing never waits."""

    def __init__(self) -> None:
        self.now = 0.0

    def clock(self) -> float:
        self.now += 1.0
        return self.now


if __name__ == "__main__":
    main()
