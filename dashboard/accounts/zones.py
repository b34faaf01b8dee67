"""Time zone names: which ones exist, how a typed one is read, which one a viewer reads in.

No HTTP here: the middleware, the preferences form and the browser's report all come
through these functions, and every name they are given is untrusted.
"""

from __future__ import annotations

import functools
import zoneinfo
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _

# Where the browser's own zone (JavaScript's Intl API) is kept between visits: a property
# of this browser, not of the user (a laptop in Tokyo and a phone in Brussels differ).
BROWSER_ZONE_COOKIE = "browser_time_zone"
BROWSER_ZONE_COOKIE_AGE = 365 * 24 * 3600
MAX_NAME_LENGTH = 64  # the longest IANA name is 32 characters; Profile.time_zone holds 64
UTC = "UTC"


@functools.cache
def known_time_zones() -> frozenset[str]:
    """The system's zone names; reading them walks the tz database (~14 ms), so once."""
    return frozenset(zoneinfo.available_timezones())


def sorted_time_zones() -> list[str]:
    """Every zone name, sorted: the preferences picker's list."""
    return _sorted()


@functools.cache
def _sorted() -> list[str]:
    return sorted(known_time_zones())


@functools.cache
def _folded_names() -> dict[str, str]:
    """'asia/tokyo' → 'Asia/Tokyo', and the city alone ('tokyo', 'new_york') when only one
    zone ends with it."""
    names = {name.casefold(): name for name in known_time_zones()}
    cities: dict[str, list[str]] = {}
    for name in known_time_zones():
        cities.setdefault(name.rsplit("/", 1)[-1].casefold(), []).append(name)
    for city, zones in cities.items():
        if len(zones) == 1:
            names.setdefault(city, zones[0])
    return names


def read_time_zone(text: object) -> str | None:
    """The zone name `text` means, or None: exact names, any case, spaces for
    underscores, or a city that names one zone ('Tokyo', 'new york')."""
    if not isinstance(text, str):
        return None
    text = text.strip()
    if not text or len(text) > MAX_NAME_LENGTH:
        return None
    if text in known_time_zones():
        return text
    return _folded_names().get("_".join(text.split()).casefold())


def exact_time_zone(text: object) -> str:
    """`text` when it is a zone name exactly as the tz database spells it, else ''."""
    return text if isinstance(text, str) and text in known_time_zones() else ""


@dataclass(frozen=True)
class ViewerZone:
    """The zone a viewer reads times in, and why.

    `chosen` is the user's own choice ('' = follow the browser), `browser` the zone this
    browser last reported ('' = not known: no JavaScript, or not reported yet)."""

    chosen: str
    browser: str
    default: str

    @property
    def name(self) -> str:
        """The choice wins; then the browser's zone; then the site's TIME_ZONE."""
        return self.chosen or self.browser or self.default

    @property
    def follows_browser(self) -> bool:
        return not self.chosen

    @property
    def automatic(self) -> str:
        """The zone shown without a choice: this browser's, else the site's."""
        return self.browser or self.default

    def switches(self) -> list[tuple[str, str]]:
        """The one-click alternatives to the zone shown, as (value to save, button label):
        back to the browser's zone (saved as 'follow the browser'), and UTC."""
        options: list[tuple[str, str]] = []
        if self.chosen and self.automatic != self.name:
            if self.browser:
                label = _("Use this browser’s zone (%(zone)s)") % {"zone": self.browser}
            else:
                label = _("Use the default zone (%(zone)s)") % {"zone": self.default}
            options.append(("", label))
        if self.name != UTC:
            options.append((UTC, _("Show in UTC")))
        return options


def viewer_zone(user, browser_cookie: str | None) -> ViewerZone:
    """The zone `user` reads in on a browser that sent `browser_cookie`."""
    chosen = ""
    if user.is_authenticated:
        # The login backends load the profile with the user (select_related); a missing
        # profile raises RelatedObjectDoesNotExist, an AttributeError.
        profile = getattr(user, "profile", None)
        chosen = exact_time_zone(profile.time_zone) if profile else ""
    return ViewerZone(
        chosen=chosen,
        browser=exact_time_zone(browser_cookie),
        default=settings.TIME_ZONE,
    )
