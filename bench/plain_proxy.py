"""The benchmark's plain proxy: a minimal Django app with no cache, the reference for CPU.

What a team would write without this dashboard: per request it reads the logged-in user
from Django's database session (the same sessions as the dashboard), makes a new httpx
client, asks the provider for one page and renders a simple table with the Django
template language. No cache, no connection reuse. bench/run.py serves it with
bench/plain_gunicorn.py (the dashboard's gunicorn settings, without its hooks):

    BENCH_PLAIN_LINES='{"1": "demo-support"}' DATABASE_PATH=... DJANGO_SECRET_KEY=... \
    SMSMOBILEAPI_BASE_URL=http://127.0.0.1:PORT gunicorn -c bench/plain_gunicorn.py \
    bench.plain_proxy:application

The URLs are the dashboard's (/lines/<pk>/<kind>/?q=&from=&to=&sort=&dir=&page=), so one
mix drives both; an `HX-Request` header gets the table alone, like the dashboard's partial.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, date, datetime, time, timedelta

import django
import httpx
from django.conf import settings

LINES: dict[int, str] = {
    int(pk): key for pk, key in json.loads(os.environ.get("BENCH_PLAIN_LINES", "{}")).items()
}
PER_PAGE = 50
SORTS = {
    "date": "call_date_ms",
    "duration": "duration_sec",
    "name": "cached_name",
    "number": "phone_number",
}

settings.configure(
    DEBUG=False,
    SECRET_KEY=os.environ["DJANGO_SECRET_KEY"],
    ALLOWED_HOSTS=["*"],
    ROOT_URLCONF=__name__,
    INSTALLED_APPS=[
        "django.contrib.contenttypes",
        "django.contrib.auth",
        "django.contrib.sessions",
    ],
    # Django's sessions, as the dashboard; the user is read from the session below, since
    # the authentication backend the dashboard recorded there is not installed here.
    MIDDLEWARE=["django.contrib.sessions.middleware.SessionMiddleware"],
    DATABASES={
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ["DATABASE_PATH"],
            "CONN_MAX_AGE": 60,
        }
    },
    TEMPLATES=[{"BACKEND": "django.template.backends.django.DjangoTemplates", "DIRS": []}],
    USE_TZ=True,
    TIME_ZONE="UTC",
    DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
)
django.setup()

from django.contrib.auth import SESSION_KEY  # noqa: E402
from django.contrib.auth.models import User  # noqa: E402
from django.http import HttpRequest, HttpResponse, HttpResponseNotFound  # noqa: E402
from django.shortcuts import redirect  # noqa: E402
from django.template import engines  # noqa: E402
from django.urls import path  # noqa: E402

TABLE = engines["django"].from_string(
    """<table><caption>{{ kind|title }} calls</caption>
<thead><tr><th>When</th><th>Number</th><th>Name</th>{% if kind != "missed" %}<th>Duration</th>{% endif %}</tr></thead>
<tbody>{% for row in rows %}
<tr><td><time datetime="{{ row.at|date:"c" }}">{{ row.at|date:"Y-m-d H:i" }}</time></td><td>{{ row.number }}</td><td>{{ row.name|default:"—" }}</td>{% if kind != "missed" %}<td>{{ row.duration }} s</td>{% endif %}</tr>{% endfor %}
</tbody></table>
<nav>{% if page > 1 %}<a href="?page={{ page|add:-1 }}">Previous</a>{% endif %} <a href="?page={{ page|add:1 }}">Next</a></nav>"""
)
PAGE = engines["django"].from_string(
    """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Calls</title></head>
<body><h1>Line {{ line }}</h1><nav><a href="../missed/">Missed</a> <a href="../incoming/">Incoming</a> <a href="../outgoing/">Outgoing</a></nav>
<form method="get"><input name="q" value="{{ q }}"><button>Search</button></form>
<div id="results">{{ table }}</div></body></html>"""
)


def provider_params(kind: str, query: dict[str, str]) -> dict[str, str]:
    """The dashboard's query string as the provider's parameters for one page."""
    page = max(1, int(query.get("page") or 1))
    params = {"offset": str((page - 1) * PER_PAGE), "limit": str(PER_PAGE)}
    start, end = _day(query.get("from")), _day(query.get("to"))
    if kind == "missed":
        if query.get("q"):
            params["search"] = query["q"]
        if start:
            params["date_start"] = start.isoformat()
        if end:
            params["date_end"] = end.isoformat()
        return params
    if query.get("q"):
        params["q"] = query["q"]
    if start:
        params["date_from_ms"] = str(_ms(datetime.combine(start, time.min, UTC)))
    if end:
        params["date_to_ms"] = str(_ms(datetime.combine(end + timedelta(days=1), time.min, UTC)))
    params["sort_by"] = SORTS.get(query.get("sort", ""), "call_date_ms")
    params["sort_dir"] = "asc" if query.get("dir") == "asc" else "desc"
    return params


def calls(request: HttpRequest, line: int, kind: str) -> HttpResponse:
    user_id = request.session.get(SESSION_KEY)
    if user_id is None or not User.objects.filter(pk=user_id, is_active=True).exists():
        return redirect("/accounts/login/")
    if line not in LINES or kind not in ("missed", "incoming", "outgoing"):
        return HttpResponseNotFound("no such table")
    params = provider_params(kind, request.GET.dict())
    with httpx.Client(base_url=os.environ["SMSMOBILEAPI_BASE_URL"], timeout=30) as client:
        answer = client.get(f"/call/{kind}/list/", params={"apikey": LINES[line], **params}).json()
    rows = [_row(kind, raw) for raw in answer.get("data" if kind == "missed" else "rows", [])]
    page = int(params["offset"]) // PER_PAGE + 1
    table = TABLE.render({"kind": kind, "rows": rows, "page": page})
    if request.headers.get("HX-Request"):
        return HttpResponse(table)
    return HttpResponse(PAGE.render({"line": line, "q": request.GET.get("q", ""), "table": table}))


def login(request: HttpRequest) -> HttpResponse:
    return HttpResponse("log in at the dashboard")


def _row(kind: str, raw: dict) -> dict:
    if kind == "missed":
        at = datetime.strptime(raw.get("date", ""), "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
        return {"at": at, "number": raw.get("number"), "name": raw.get("name")}
    return {
        "at": datetime.fromtimestamp(int(raw.get("call_date_ms") or 0) / 1000, UTC),
        "number": raw.get("phone_number"),
        "name": raw.get("cached_name"),
        "duration": raw.get("duration_sec"),
    }


def _day(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


urlpatterns = [
    path("lines/<int:line>/<str:kind>/", calls),
    path("accounts/login/", login),
]

from django.core.wsgi import get_wsgi_application  # noqa: E402

application = get_wsgi_application()
