"""`make bench`: every measurement in one bounded run, each as a ratio to the SMTP ceiling.

Set BENCH_QUICK=1 for a smaller run (a tenth of the sizes) while working on the code; name
steps to run only those: `python -m bench filters memory` (the loopback ceiling is always
measured). `broadcast` runs both broadcast regimes; `loopback` or `relay` runs one of them.
BENCH_LOOPBACK_SESSIONS sets the store's sessions in the loopback regime (default 4).
"""

from __future__ import annotations

import os
import sys
import time

from bench import broadcast, ceiling, creation, filters

QUICK = os.environ.get("BENCH_QUICK") == "1"
SCALE = 10 if QUICK else 1
MEMBERS = 20_000 // SCALE
BIG_MEMBERS = 200_000 // SCALE
ORDERS = 100_000 // SCALE
FILTER_MEMBERS = 1_000_000 // SCALE
CORES = os.cpu_count() or 1

# Loopback: smtp-sink answers at once; the store's relay allows this many sessions, shared by
# 1 worker and by 1 worker per core.
LOOPBACK_SESSIONS = int(os.environ.get("BENCH_LOOPBACK_SESSIONS") or 4)
LOOPBACK_WORKERS = sorted({1, 2, CORES})
# A relay in another city: each final dot answered after 20 ms, 8 sessions at once, so no
# client can send more than 8 / 0.020 = 400 msg/s to it.
RELAY_DELAY = 0.020
RELAY_SESSIONS = 8
RELAY_LIMIT = RELAY_SESSIONS / RELAY_DELAY
RELAY_WORKERS = (1, 2)
RELAY_CEILING_MESSAGES = MEMBERS // 5  # 10 s at 400 msg/s


def message_size() -> int:
    """The bytes of one real broadcast mail as shopmail composes it."""
    from shopmail.mail.compose import Mail, compose

    mail = Mail(
        from_addr="news@sakura-oroshi.example.jp",
        from_name="さくら卸",
        to="member1@bench.example.jp",
        to_name="担当 1",
        subject="【さくら卸】冬の新商品のご案内",
        text=broadcast.BODY.replace("[COMPANY]", "株式会社サンプル1").replace(
            "[MEMBER_NAME]", "担当 1"
        )
        + "--\nさくら卸 B2B\nTEL 075-000-0000",
        message_id="<m1.broadcast@mail.shopmail.example>",
        extra_headers=[
            ("List-Unsubscribe", "<https://desk.example.jp/unsubscribe/" + "x" * 60 + ">"),
            ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
        ],
    )
    return len(compose(mail))


def line(
    label: str, value: str, ratio: float | None = None, of: str = "ceiling", more: str = ""
) -> None:
    suffix = f"   {ratio:.2f}× {of}" if ratio is not None else ""
    print(f"  {label:<52} {value:>14}{suffix}{more}", flush=True)


def main(steps: list[str]) -> int:
    wanted = set(steps) or {"broadcast", "creation", "filters", "memory"}
    if "broadcast" in wanted:
        wanted |= {"loopback", "relay"}
    started = time.perf_counter()
    size = message_size()
    print(f"shopmail bench ({'quick' if QUICK else 'full'}), message size {size} bytes\n")

    print("1. ceiling: smtp-source → smtp-sink, reused sessions")
    ceilings = ceiling.ceiling(MEMBERS, size)
    for sessions, rate in ceilings.items():
        line(f"{sessions} session(s), {MEMBERS} messages", f"{rate:,.0f} msg/s")
    top = max(ceilings.values())
    line("ceiling (best)", f"{top:,.0f} msg/s")
    if "relay" in wanted:
        relay_top = ceiling.relay_ceiling(RELAY_CEILING_MESSAGES, size, RELAY_SESSIONS, RELAY_DELAY)
        print(f"\n1b. ceiling of a relay {RELAY_DELAY * 1000:.0f} ms away (bench.slowsink)")
        line(
            f"limit: {RELAY_SESSIONS} sessions ÷ {RELAY_DELAY * 1000:.0f} ms",
            f"{RELAY_LIMIT:,.0f} msg/s",
        )
        line(
            f"smtp-source, {RELAY_SESSIONS} sessions, {RELAY_CEILING_MESSAGES} messages",
            f"{relay_top:,.0f} msg/s",
            relay_top / RELAY_LIMIT,
            "limit",
        )

    if "loopback" in wanted:
        print(
            f"\n2a. broadcast end to end, loopback (smtp-sink), {MEMBERS} members, "
            f"relay of {LOOPBACK_SESSIONS} sessions, {CORES} cores"
        )
        for database in ("sqlite", "postgresql"):
            for workers in LOOPBACK_WORKERS:
                # The ceiling again, right before and right after the run, and the ratio to
                # the better of the two: this machine's speed drifts by a third within minutes
                # (smtp-sink's own CPU per message with it).
                before = ceiling.beside(MEMBERS, size)
                run = broadcast.run(database, workers, MEMBERS, LOOPBACK_SESSIONS)
                after = ceiling.beside(MEMBERS, size)
                line(
                    f"{database}, {workers} worker(s)",
                    f"{run.rate:,.0f} msg/s",
                    run.rate / max(before, after),
                    more=f" (smtp-source {before:,.0f} before it, {after:,.0f} after)",
                )
    if "relay" in wanted:
        print(
            f"\n2b. broadcast end to end, relay {RELAY_DELAY * 1000:.0f} ms away, {MEMBERS} "
            f"members, {RELAY_SESSIONS} sessions"
        )
        for database in ("sqlite", "postgresql"):
            for workers in RELAY_WORKERS:
                run = broadcast.run(database, workers, MEMBERS, RELAY_SESSIONS, RELAY_DELAY)
                line(
                    f"{database}, {workers} worker(s)",
                    f"{run.rate:,.0f} msg/s",
                    run.rate / RELAY_LIMIT,
                    "limit",
                    f", {run.rate / relay_top:.2f}× smtp-source; at the sink "
                    f"{run.steady:,.0f} msg/s",
                )
    if "creation" in wanted:
        print(f"\n3. automatic mail creation, {ORDERS} orders")
        for database in ("sqlite", "postgresql"):
            rate, again, rows = creation.run(database, ORDERS)
            line(f"{database}: first run ({rows} confirmations)", f"{rate:,.0f} orders/s")
            line(f"{database}: second run (creates nothing)", f"{again * 1000:,.0f} ms")
    if "filters" in wanted:
        print(
            f"\n4. member list filter + count, {FILTER_MEMBERS} members (PostgreSQL), 100 requests"
        )
        for key, ms in filters.run(FILTER_MEMBERS).items():
            line(key, f"{ms:,.1f} ms")
    if "memory" in wanted:
        memory(top)
    print(f"\nbench finished in {time.perf_counter() - started:,.0f} s")
    return 0


def memory(top: float) -> None:
    print("\n5. peak worker memory (SQLite, 1 worker)")
    small = broadcast.run("sqlite", 1, MEMBERS)
    big = broadcast.run("sqlite", 1, BIG_MEMBERS)
    line(f"{MEMBERS} members", f"{small.peak_rss / 2**20:,.1f} MiB")
    line(
        f"{BIG_MEMBERS} members ({big.rate:,.0f} msg/s)",
        f"{big.peak_rss / 2**20:,.1f} MiB",
        big.rate / top,
    )
    line("growth", f"{(big.peak_rss / small.peak_rss - 1) * 100:+.1f} %")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
