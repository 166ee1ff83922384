"""shopmail's broadcast path end to end: recipient rows, RQ workers, rendering, SMTP, statuses."""

from __future__ import annotations

import time
from dataclasses import dataclass

from bench import data, rig
from shopmail.broadcasts import drafts as broadcasts
from shopmail.extensions import db

BODY = (
    "[COMPANY]\n[MEMBER_NAME] 様\n\nいつもさくら卸をご利用いただきありがとうございます。\n"
    "冬の新商品のご案内です。有田焼の新作マグカップ、今治タオルのギフトセットなど、\n"
    "法人様向けの特別価格でご用意いたしました。\n\n"
    + "・新商品のご案内(詳細は会員ページをご覧ください)\n" * 12
    + "\n配信停止: [UNSUBSCRIBE_URL]\n"
)


@dataclass
class Run:
    database: str
    workers: int
    members: int
    seconds: float
    received: int
    peak_rss: int

    @property
    def rate(self) -> float:
        return self.members / self.seconds


def run(database: str, workers: int, members: int, timeout: float = 900) -> Run:
    with rig.sink() as sink, rig.redis() as redis_url, rig.database(database) as url:
        app = rig.make_app(url, redis_url)
        with app.app_context():
            store, admin = data.desk(sink.port)
            data.members(members)
            draft = broadcasts.create_draft({}, None, admin)
            broadcasts.save_draft(
                draft,
                broadcasts.Draft(
                    store_id=store.id,
                    subject="【さくら卸】冬の新商品のご案内",
                    body=BODY,
                    format="text",
                    insert_signature=True,
                    only_wanting=False,
                ),
                admin,
            )
            db.session.commit()
            started = time.perf_counter()
            queued = broadcasts.start(draft, admin)
            db.session.commit()
            peak = rig.wait_workers(rig.start_workers(app, workers), timeout)
            seconds = time.perf_counter() - started
            time.sleep(0.3)
        received = sink.received()
    if queued != members or received != members:
        raise RuntimeError(f"queued {queued}, sink received {received}, expected {members}")
    return Run(database, workers, members, seconds, received, peak)
