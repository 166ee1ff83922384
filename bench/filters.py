"""The member list: filter + match count + first page, as staff request it, on 1,000,000 members."""

from __future__ import annotations

import statistics
import time
from datetime import timedelta

from bench import data, rig
from shopmail.extensions import db
from shopmail.models.types import utcnow

QUERIES = [
    "",
    "wants_mail=yes&invalid=no",
    "industry=食品&group=ゴールド",
    "business_type=卸売&wants_mail=yes&last_purchase=any",
    "purchased_from={a}&purchased_to={b}",
    "last_purchase=never",
    "q=サンプル12345",
    "q=member77@bench",
]


def run(members: int, requests: int = 100) -> dict[str, float]:
    with rig.redis() as redis_url, rig.database("postgresql") as url:
        app = rig.make_app(url, redis_url)
        with app.app_context():
            data.desk(2525)
            data.members_sql(members)
            db.session.remove()
        client = app.test_client()
        response = client.post(
            "/login", data={"email": "bench@example.jp", "password": "bench-password-123"}
        )
        assert response.status_code == 302, "bench log-in failed"
        today = utcnow().date()
        window = {"a": today - timedelta(days=120), "b": today - timedelta(days=30)}
        timings, by_query = [], {}
        for i in range(requests + len(QUERIES)):
            query = QUERIES[i % len(QUERIES)].format(**window)
            started = time.perf_counter()
            response = client.get(f"/members?{query}", headers={"HX-Request": "true"})
            elapsed = (time.perf_counter() - started) * 1000
            assert response.status_code == 200, response.status_code
            if i >= len(QUERIES):  # the first round warms caches up
                timings.append(elapsed)
                by_query.setdefault(QUERIES[i % len(QUERIES)] or "(no filter)", []).append(elapsed)
    timings.sort()
    result = {
        "p50": statistics.median(timings),
        "p95": timings[int(len(timings) * 0.95) - 1],
        "max": timings[-1],
    }
    result.update({f"  p50 {q}": statistics.median(t) for q, t in by_query.items()})
    return result
