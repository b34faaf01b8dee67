"""A separate process for the cross-process single-flight tests (not a test module).

    python -m tests.singleflight_worker BASE_URL THREADS API_KEY

Runs with DJANGO_SETTINGS_MODULE=tests.settings and the CACHE_URL (or TEST_DISK_CACHE) the
test chose. Prints "ready", waits for a line on stdin, then fetches the same batch from
THREADS threads at once through `fetch_batch` and prints one JSON object: the `source` of
every answer.
"""

from __future__ import annotations

import json
import sys
import threading


def main(base_url: str, threads: int, api_key: str) -> None:
    import django

    django.setup()
    from dashboard.calls.cache import fetch_batch
    from dashboard.lines.models import Line
    from dashboard.smsmobileapi import conf
    from dashboard.smsmobileapi.client import SmsMobileApiClient
    from dashboard.smsmobileapi.records import CallKind, CallQuery

    conf.set_client(SmsMobileApiClient(base_url, read_timeout=10.0))
    line = Line(label="Support phone")  # never saved: the cache needs only its key
    line.set_api_key(api_key)
    sources: list[str] = []
    barrier = threading.Barrier(threads + 1)

    def fetch() -> None:
        barrier.wait()
        fetched = fetch_batch(line, CallKind.MISSED, CallQuery(limit=26))
        sources.append(fetched.source if fetched.batch else f"error:{fetched.error!r}")

    workers = [threading.Thread(target=fetch) for _ in range(threads)]
    for worker in workers:
        worker.start()
    print("ready", flush=True)
    sys.stdin.readline()
    barrier.wait()
    for worker in workers:
        worker.join()
    print(json.dumps({"sources": sources}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3])
