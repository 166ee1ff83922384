"""`make bench`: every measurement in one bounded run, each as a ratio to the SMTP ceiling.

Set BENCH_QUICK=1 for a smaller run (a tenth of the sizes) while working on the code; name
steps to run only those: `python -m bench filters memory` (ceiling is always measured).
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


def line(label: str, value: str, ratio: float | None = None) -> None:
    suffix = f"   {ratio:.2f}× ceiling" if ratio is not None else ""
    print(f"  {label:<52} {value:>14}{suffix}", flush=True)


def main(steps: list[str]) -> int:
    wanted = set(steps) or {"broadcast", "creation", "filters", "memory"}
    started = time.perf_counter()
    size = message_size()
    print(f"shopmail bench ({'quick' if QUICK else 'full'}), message size {size} bytes\n")

    print("1. ceiling: smtp-source → smtp-sink, reused sessions")
    ceilings = ceiling.ceiling(MEMBERS, size)
    for sessions, rate in ceilings.items():
        line(f"{sessions} session(s), {MEMBERS} messages", f"{rate:,.0f} msg/s")
    top = max(ceilings.values())
    line("ceiling (best)", f"{top:,.0f} msg/s")

    if "broadcast" in wanted:
        print(f"\n2. broadcast end to end, {MEMBERS} members")
        for database in ("sqlite", "postgresql"):
            for workers in (1, 2):
                run = broadcast.run(database, workers, MEMBERS)
                line(f"{database}, {workers} worker(s)", f"{run.rate:,.0f} msg/s", run.rate / top)
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
