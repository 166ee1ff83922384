"""The ceiling: Postfix's smtp-source blasting shopmail-sized messages at smtp-sink."""

from __future__ import annotations

import subprocess
import time

from bench import rig


def blast(messages: int, size: int, sessions: int, delay: float = 0.0) -> float:
    """Messages per second for `messages` of `size` bytes over `sessions` reused sessions, to
    a sink answering each final dot after `delay` seconds (0: Postfix's smtp-sink)."""
    with rig.sink(delay) as sink:
        started = time.perf_counter()
        subprocess.run(
            [
                "smtp-source",
                "-d",
                "-s",
                str(sessions),
                "-m",
                str(messages),
                "-l",
                str(size),
                "-f",
                "shop@bench.example.jp",
                "-t",
                "member@bench.example.jp",
                f"127.0.0.1:{sink.port}",
            ],
            check=True,
            timeout=300,
        )
        elapsed = time.perf_counter() - started
        if not delay:
            time.sleep(0.2)  # smtp-sink's counter line
        got = sink.received()
    if got != messages:
        raise RuntimeError(f"the sink counted {got} of {messages}")
    return messages / elapsed


def ceiling(messages: int, size: int) -> dict[int, float]:
    return {sessions: blast(messages, size, sessions) for sessions in (1, 4, 8)}


def beside(messages: int, size: int) -> float:
    """The ceiling once more, beside a broadcast run: the better of 4 and 8 sessions."""
    return max(blast(messages, size, sessions) for sessions in (4, 8))


def relay_ceiling(messages: int, size: int, sessions: int, delay: float) -> float:
    """smtp-source's rate to a relay `delay` seconds away that allows `sessions` at once."""
    return blast(messages, size, sessions, delay)
