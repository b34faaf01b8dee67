"""`python -m dashboard.ops.services_check DATABASE_URL CACHE_URL`: exit 0 when both answer.

Used by `make test` before the PostgreSQL + Redis pass; says what is missing otherwise.
"""

from __future__ import annotations

import sys
from urllib.parse import urlsplit


def check(database_url: str, cache_url: str) -> list[str]:
    problems = []
    try:
        import psycopg

        with psycopg.connect(database_url, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except Exception as exc:
        where = (
            urlsplit(database_url)._replace(netloc=urlsplit(database_url).hostname or "").geturl()
        )
        problems.append(
            f"PostgreSQL at {where}: {type(exc).__name__}: {str(exc).strip().splitlines()[0]}"
        )
    try:
        import redis

        redis.Redis.from_url(cache_url, socket_connect_timeout=3).ping()
    except Exception as exc:
        problems.append(f"Redis at {cache_url}: {type(exc).__name__}: {exc}")
    return problems


def main(argv: list[str]) -> int:
    problems = check(argv[0], argv[1])
    for problem in problems:
        print(f"not reachable: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
