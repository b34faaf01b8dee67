"""Pure helpers for the benchmark: percentiles, summaries, target verdicts, markdown."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) with linear interpolation between closest ranks."""
    if not values:
        return math.nan
    if not 0 <= q <= 100:
        raise ValueError(f"percentile out of range: {q}")
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def latency_summary(seconds: Sequence[float]) -> dict[str, float | int]:
    """p50/p95/p99 and mean in milliseconds, rounded for reading, plus the sample count."""
    ms = [s * 1000 for s in seconds]
    return {
        "n": len(ms),
        "p50_ms": round(percentile(ms, 50), 2),
        "p95_ms": round(percentile(ms, 95), 2),
        "p99_ms": round(percentile(ms, 99), 2),
        "mean_ms": round(sum(ms) / len(ms), 2) if ms else math.nan,
    }


@dataclass(frozen=True)
class Verdict:
    name: str
    passed: bool
    detail: str

    def line(self) -> str:
        return f"{'PASS' if self.passed else 'FAIL'}  {self.name}: {self.detail}"


def at_most(name: str, measured: float, limit: float, unit: str = "ms") -> Verdict:
    return Verdict(name, measured <= limit, f"{measured:.2f} {unit} <= {limit:.2f} {unit}")


def exactly(name: str, measured: int, expected: int) -> Verdict:
    return Verdict(name, measured == expected, f"{measured} == {expected}")


def markdown_table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A GitHub-flavoured markdown table; numbers right-aligned, floats with 2 decimals."""
    rows = [[_cell(value) for value in row] for row in rows]
    numeric = [
        all(_is_number(row[i]) for row in rows) if rows else False for i in range(len(headers))
    ]
    widths = [max([len(str(h))] + [len(row[i]) for row in rows]) for i, h in enumerate(headers)]

    def fmt(cells: Sequence[str]) -> str:
        padded = [
            c.rjust(widths[i]) if numeric[i] else c.ljust(widths[i]) for i, c in enumerate(cells)
        ]
        return "| " + " | ".join(padded) + " |"

    rule = [("-" * (w - 1) + ":") if numeric[i] else "-" * w for i, w in enumerate(widths)]
    return "\n".join(
        [fmt([str(h) for h in headers]), "| " + " | ".join(rule) + " |"]
        + [fmt(row) for row in rows]
    )


def _cell(value: object) -> str:
    if isinstance(value, float):
        return "—" if math.isnan(value) else f"{value:,.2f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def _is_number(text: str) -> bool:
    return text == "—" or text.replace(",", "").replace(".", "", 1).lstrip("-").isdigit()


def at_least(name: str, measured: float, limit: float, unit: str = "x") -> Verdict:
    return Verdict(name, measured >= limit, f"{measured:.2f}{unit} >= {limit:.2f}{unit}")


def view_key(url: str) -> str:
    """One distinct view: path and filter, whoever asks and however (full page or htmx).

    `refresh` is dropped (a Refresh shows the same view, at a provider call's price) and
    so are empty parameters, which the dashboard treats as absent.
    """
    path, _, query = url.partition("?")
    params = sorted((k, v) for k, v in parse_qsl(query) if v and k != "refresh")
    return path + ("?" + urlencode(params) if params else "")


def distinct_views(urls: Iterable[str]) -> int:
    return len({view_key(url) for url in urls})


def table_rows(html: str) -> int:
    """Rows in the body of the first table of an HTML fragment (header rows left out)."""
    start = html.find("<tbody")
    end = html.find("</tbody>", start)
    if start < 0 or end < 0:
        return 0
    return len(re.findall(r"<tr[\s>]", html[start:end]))
