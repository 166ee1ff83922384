"""The RQ worker: loads the app once, then works the queues.

python worker.py             worker + RQ scheduler + the cron scheduler (periodic jobs)
python worker.py --no-cron   worker + RQ scheduler only (run extra workers like this)
python worker.py --burst     work until the queues are empty, then exit
"""

from __future__ import annotations

import argparse
import multiprocessing

from shopmail import create_app
from shopmail.core.dispatch import make_worker, run_cron_scheduler


def run_cron() -> None:
    from shopmail import jobs

    app = create_app()
    with app.app_context():
        run_cron_scheduler(app, jobs.PERIODIC)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-cron", action="store_true", help="do not run periodic jobs here")
    parser.add_argument("--burst", action="store_true", help="exit when the queues are empty")
    parser.add_argument("--name", help="worker name")
    args = parser.parse_args()

    cron = None
    if not args.no_cron and not args.burst:
        cron = multiprocessing.Process(target=run_cron, name="shopmail-cron", daemon=True)
        cron.start()
    app = create_app()
    try:
        make_worker(app, args.name).work(burst=args.burst, with_scheduler=not args.burst)
    finally:
        if cron is not None:
            cron.terminate()


if __name__ == "__main__":
    main()
