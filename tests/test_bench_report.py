"""The benchmark's pure helpers (bench/report.py and bench/run.py): no timing here."""

from __future__ import annotations

import math
import re

import pytest

from bench.report import at_most, exactly, latency_summary, markdown_table, percentile
from bench.run import SimulatedUser, calls_url, parse_args, to_markdown, verdicts


def test_percentiles_interpolate_between_closest_ranks():
    values = [5.0, 1.0, 4.0, 2.0, 3.0]

    assert percentile(values, 0) == 1.0
    assert percentile(values, 50) == 3.0
    assert percentile(values, 100) == 5.0
    assert percentile(values, 95) == pytest.approx(4.8)
    assert percentile([7.0], 99) == 7.0
    assert math.isnan(percentile([], 50))
    with pytest.raises(ValueError):
        percentile(values, 101)


def test_a_latency_summary_is_in_milliseconds():
    summary = latency_summary([0.001, 0.002, 0.003, 0.004])

    assert summary == {"n": 4, "p50_ms": 2.5, "p95_ms": 3.85, "p99_ms": 3.97, "mean_ms": 2.5}


def test_markdown_tables_align_numbers_right_and_text_left():
    table = markdown_table(["name", "p50 ms", "n"], [["hit", 1.5, 300], ["miss", 160.25, 40]])

    assert table.splitlines() == [
        "| name | p50 ms |   n |",
        "| ---- | -----: | --: |",
        "| hit  |   1.50 | 300 |",
        "| miss | 160.25 |  40 |",
    ]


def test_verdicts_read_as_pass_or_fail_lines():
    assert at_most("hit", 4.0, 6.0).line() == "PASS  hit: 4.00 ms <= 6.00 ms"
    assert exactly("stampede", 2, 1).line() == "FAIL  stampede: 2 == 1"


def results_fixture() -> dict:
    lat = {"n": 10, "p50_ms": 2.0, "p95_ms": 3.0, "p99_ms": 4.0, "mean_ms": 2.2}
    size = {"html_bytes": 1000, "wire_bytes": 1000, "gzip_bytes": 300}
    return {
        "started_at": "2026-11-27T12:00:00+00:00",
        "machine": {"cpu": "CPU", "cores": 2, "memory": "1 GiB", "os": "Linux", "python": "3.12"},
        "config": {"latency_s": 0.15, "cache": "redis", "server": "2 workers x 8 threads"},
        "references": {"upstream_alone": {**lat, "p50_ms": 150.0}, "static_file": {**lat, **size}},
        "cache_hit": {**lat, "upstream_calls": 0},
        "cache_miss": {**lat, "p50_ms": 165.0, "upstream_calls": 10},
        "wake_up": {"idle_s": 0.15, "awake": lat, "after_idle": {**lat, "p50_ms": 4.5}},
        "full_page": {**lat, **size},
        "htmx_partial": {**lat, **size},
        "load": [
            {
                "users": 50,
                "requests": 500,
                "rps": 50.0,
                "errors": 0,
                "latency": lat,
                "upstream_calls_per_1000": 80.0,
            }
        ],
        "mix_upstream_calls_per_1000": 80.0,
        "stampede": {"requests": 100, "errors": 0, "upstream_calls": 1, "latency": lat},
    }


def test_targets_and_the_markdown_report_come_from_the_results():
    results = results_fixture()
    checks = verdicts(results)
    results["verdicts"] = [{"line": v.line()} for v in checks]
    markdown = to_markdown(results)

    assert [v.passed for v in checks] == [True, True, True, True]
    assert "PASS  stampede of 100 makes 1 upstream call: 1 == 1" in markdown
    assert "| upstream alone (reference)" in markdown
    assert re.search(r"\| health check after idling \(context\) +\| +4\.50 .*150 ms idle", markdown)


def test_simulated_users_browse_only_the_call_tables_of_their_lines():
    from datetime import date

    person = SimulatedUser([3, 4], seed=1, today=date(2026, 11, 27))
    urls = [person.next_request()[0] for _ in range(200)]

    assert all(u.startswith(("/lines/3/", "/lines/4/")) for u in urls)
    assert any("refresh=1" in u for u in urls)
    assert calls_url(3, "incoming", q="+32 47", page=None) == "/lines/3/incoming/?q=%2B32+47"
    assert parse_args(["--users", "1,5"]).users == [1, 5]
