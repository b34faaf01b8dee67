"""An alert as a message: subject and plain text in the recipient's language, with an
absolute link built on PUBLIC_URL (sub-path included). Never an API key, never more
than the line's staff may see on its pages (a number, a contact name, counts)."""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode

from django.conf import settings
from django.urls import NoReverseMatch, get_script_prefix, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from dashboard import formats
from dashboard.alerts.models import Alert, RuleKind
from dashboard.calls.templatetags.calls import phone


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str


def public_link(name: str, kwargs: dict, query: dict | None = None) -> str:
    """PUBLIC_URL + the route: `reverse` without this process's own script prefix, since
    PUBLIC_URL already carries the sub-path people open the dashboard at."""
    path = reverse(name, kwargs=kwargs)
    prefix = get_script_prefix()
    if prefix != "/" and path.startswith(prefix):
        path = "/" + path[len(prefix) :]
    link = f"{settings.PUBLIC_URL}{path}"
    return f"{link}?{urlencode(query)}" if query else link


def _zone(alert: Alert) -> zoneinfo.ZoneInfo:
    name = alert.rule.time_zone if alert.rule_id else settings.TIME_ZONE
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def render(alert: Alert, language: str, *, member: bool = False) -> Rendered:
    """The alert's message in `language`, times in the rule's zone. A team member's
    e-mail (`member`) ends with why they get it and where to stop it."""
    with translation.override(language), timezone.override(_zone(alert)):
        rendered = _RENDERERS.get(alert.kind, _render_test)(alert)
        if member:
            footer = _(
                "You get this because you can see the line “%(line)s”. To stop these "
                "e-mails: %(url)s"
            ) % {
                "line": alert.line.label,
                "url": public_link("line-alerts", {"line_id": alert.line_id}),
            }
            rendered = Rendered(rendered.subject, f"{rendered.body}\n\n-- \n{footer}")
    # A contact name is the phone's text: a line break in it would be a header injection
    # (Django refuses such a subject, and the alert would never go out).
    return Rendered(" ".join(rendered.subject.split()), rendered.body)


def _moment(value: str | None) -> str:
    """A moment of the facts in full, in the rule's zone and naming it: a mail is read
    later and elsewhere, so no "Today" and no zone left to guess."""
    if not value:
        return ""
    zone = timezone.get_current_timezone()
    return f"{formats.full_timestamp(datetime.fromisoformat(value), zone)} ({zone.key})"


def _render_spike(alert: Alert) -> Rendered:
    facts = alert.facts
    count, minutes = int(facts.get("count", 0)), int(facts.get("minutes", 0))
    subject = ngettext(
        "%(line)s: %(count)d missed calls in %(minutes)d minutes",
        "%(line)s: %(count)d missed calls in %(minutes)d minutes",
        count,
    ) % {"line": alert.line.label, "count": count, "minutes": minutes}
    body = "\n".join(
        [
            subject,
            _("Latest: %(time)s") % {"time": _moment(facts.get("latest"))},
            "",
            _("Missed calls: %(url)s")
            % {"url": public_link("line-calls", {"line_id": alert.line_id, "kind": "missed"})},
        ]
    )
    return Rendered(subject, body)


def waited_text(minutes: int) -> str:
    """'45 minutes', '3 hours', '2 days': how long, as a person says it."""
    if minutes < 120:
        return ngettext("%(n)d minute", "%(n)d minutes", minutes) % {"n": minutes}
    hours = minutes // 60
    if hours < 48:
        return ngettext("%(n)d hour", "%(n)d hours", hours) % {"n": hours}
    days = hours // 24
    return ngettext("%(n)d day", "%(n)d days", days) % {"n": days}


def _render_waiting(alert: Alert) -> Rendered:
    facts = alert.facts
    number = phone(facts.get("number", ""))
    who = f"{facts['name']} ({number})" if facts.get("name") else number
    # Translators: "Support phone: Zoë (+32 470 12 34 56) has waited 45 minutes for a callback".
    subject = _("%(line)s: %(who)s has waited %(waited)s for a callback") % {
        "line": alert.line.label,
        "who": who,
        "waited": waited_text(int(facts.get("waiting_minutes", 0))),
    }
    attempts = int(facts.get("attempts", 1))
    lines = [
        subject,
        ngettext(
            "%(count)d missed call since %(time)s",
            "%(count)d missed calls since %(time)s",
            attempts,
        )
        % {"count": attempts, "time": _moment(facts.get("since"))},
        *(
            # Translators: the caller of a waiting-too-long alert, claimed but still open.
            [_("Claimed by %(owner)s, not closed yet.") % {"owner": facts["owner"]}]
            if facts.get("owner")
            else []
        ),
        *(
            [_("Waiting time counts the line's business hours only.")]
            if facts.get("business_hours")
            else []
        ),
        "",
        _("Open: %(url)s") % {"url": _caller_link(alert, facts.get("number", ""))},
    ]
    return Rendered(subject, "\n".join(lines))


def _caller_link(alert: Alert, number: str) -> str:
    """The caller's row in the line's inbox, or their caller page where there is no inbox."""
    try:
        return public_link("line-inbox", {"line_id": alert.line_id}, {"q": number})
    except NoReverseMatch:
        return public_link("line-caller", {"line_id": alert.line_id, "number": number or "-"})


def _render_digest(alert: Alert) -> Rendered:
    facts = alert.facts
    day = datetime.fromisoformat(facts["day"]).date() if facts.get("day") else None
    day_text = formats.day(day) if day else ""
    subject = _("%(line)s: missed calls on %(day)s") % {
        "line": alert.line.label,
        "day": day_text,
    }
    missed, answered = int(facts.get("missed", 0)), int(facts.get("answered", 0))
    lines = [
        subject,
        ngettext("%(count)d missed call", "%(count)d missed calls", missed) % {"count": missed},
        ngettext("%(count)d answered call", "%(count)d answered calls", answered)
        % {"count": answered},
    ]
    if missed + answered:
        lines.append(
            _("Missed-call rate: %(rate)s")
            % {"rate": formats.percent(missed / (missed + answered))}
        )
    open_callers = facts.get("open_callers")
    if open_callers is not None:
        lines.append(
            ngettext(
                "%(count)d caller still waiting for a callback",
                "%(count)d callers still waiting for a callback",
                int(open_callers),
            )
            % {"count": int(open_callers)}
        )
    if facts.get("median_callback_minutes") is not None:
        lines.append(
            _("Median time to callback: %(minutes)d min")
            % {"minutes": int(facts["median_callback_minutes"])}
        )
    if facts.get("incomplete"):
        lines.append(_("The provider did not answer for every call; the figures may be low."))
    lines += [
        "",
        _("Overview: %(url)s") % {"url": public_link("line-overview", {"line_id": alert.line_id})},
    ]
    return Rendered(subject, "\n".join(lines))


def _render_test(alert: Alert) -> Rendered:
    subject = _("%(line)s: test alert") % {"line": alert.line.label}
    body = "\n".join(
        [
            _("This is a test from the calls dashboard: this destination works."),
            "",
            public_link("line-alerts", {"line_id": alert.line_id}),
        ]
    )
    return Rendered(subject, body)


_RENDERERS = {
    RuleKind.SPIKE: _render_spike,
    RuleKind.WAITING: _render_waiting,
    RuleKind.DIGEST: _render_digest,
}
