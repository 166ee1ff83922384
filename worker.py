"""The RQ worker: loads the app once, then works the queues.

python worker.py           a worker with RQ's scheduler (run as many as the relays allow)
python worker.py --burst   work until the queues are empty, then exit
python worker.py --cron    the cron scheduler: enqueues the periodic jobs (run exactly one)
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import os
import signal
import sys

from shopmail import create_app
from shopmail.core.dispatch import make_worker, run_cron_scheduler


def _end_with_this_worker() -> None:
    """In a process this worker forks (RQ's scheduler): end when the worker ends, even by
    SIGKILL, instead of running on as an orphan (Linux's PR_SET_PDEATHSIG)."""
    worker = os.getppid()
    if sys.platform == "linux":
        ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # 1: PR_SET_PDEATHSIG
    if os.getppid() != worker:  # it died before the line above
        os._exit(0)


# Young objects between collections. 50,000 saved no more CPU and let a 200,000-member
# broadcast's worker grow 10 % more than a 20,000-member one (bench/README.md, step 5).
GC_THRESHOLD = 10_000


def _collect_less() -> None:
    """The app's modules, models and compiled templates live as long as the worker: the cyclic
    garbage collector stops scanning them again and again (gc.freeze), and runs less often.
    A broadcast allocates millions of short-lived objects that reference counting frees at
    once; with Python's default threshold (700) the collector ran every few mails and took
    a fifth of the send loop's CPU (bench/README.md)."""
    gc.freeze()
    gc.set_threshold(GC_THRESHOLD, *gc.get_threshold()[1:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--burst", action="store_true", help="exit when the queues are empty")
    parser.add_argument("--cron", action="store_true", help="run the periodic jobs' scheduler")
    parser.add_argument("--name", help="worker name")
    args = parser.parse_args()

    app = create_app()
    if args.cron:
        from shopmail import jobs

        with app.app_context():
            run_cron_scheduler(app, jobs.PERIODIC)
        return
    os.register_at_fork(after_in_child=_end_with_this_worker)
    _collect_less()
    make_worker(app, args.name).work(burst=args.burst, with_scheduler=not args.burst)


if __name__ == "__main__":
    main()
