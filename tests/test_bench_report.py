"""The benchmark's pure helpers (bench/report.py and bench/run.py): no timing here."""

from __future__ import annotations

import math
import re

import pytest

from bench.report import at_most, exactly, latency_summary, markdown_table, percentile
from bench.run import (
    SimulatedUser,
    calls_url,
    parse_args,
    shows_error_banner,
    to_markdown,
    verdicts,
)


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


def test_a_stat_line_gives_pid_parent_and_cpu_ticks_even_with_odd_command_names():
    from bench.proctree import parse_stat

    # Fields 14-17 (utime, stime, cutime, cstime) are 11, 7, 3, 2; a name may hold ") (".
    line = "4242 (gunicorn: wo) (x) S 4200 4200 4200 0 -1 4194560 900 0 0 0 11 7 3 2 20 0 5"

    assert parse_stat(line) == (4242, 4200, 23)


def test_the_tree_sums_the_master_and_every_descendant_and_nothing_else():
    from bench.proctree import tree_ticks

    stats = {
        1: (0, 1000),  # init: not ours
        10: (1, 5),  # the gunicorn master
        11: (10, 40),  # a worker
        12: (10, 60),  # another worker
        13: (12, 7),  # something a worker started
        20: (1, 900),  # an unrelated process
    }

    assert tree_ticks(stats, 10) == 112
    assert tree_ticks(stats, 12) == 67
    assert tree_ticks(stats, 99) == 0  # exited: nothing to count


def test_the_reader_walks_a_proc_folder(tmp_path, monkeypatch):
    from bench import proctree

    for pid, ppid, ticks in ((10, 1, 100), (11, 10, 250), (30, 1, 9000)):
        (tmp_path / str(pid)).mkdir()
        (tmp_path / str(pid) / "stat").write_text(
            f"{pid} (python3) S {ppid} 0 0 0 -1 0 0 0 0 0 {ticks} 0 0 0 20 0 1"
        )
    (tmp_path / "self").mkdir()  # not a process number: ignored
    (tmp_path / "77").mkdir()  # a process that exited while the folder was read
    monkeypatch.setattr(proctree.os, "sysconf", lambda name: 100)

    assert proctree.tree_cpu_seconds(10, proc=tmp_path) == 3.5


def test_a_distinct_view_is_its_path_and_filter_however_it_is_asked():
    from bench.report import distinct_views, view_key

    same = [
        "/lines/3/incoming/?q=Marie&page=2",
        "/lines/3/incoming/?page=2&q=Marie",  # another order
        "/lines/3/incoming/?page=2&q=Marie&refresh=1",  # the Refresh button
        "/lines/3/incoming/?page=2&q=Marie&from=",  # an empty field
    ]

    assert {view_key(u) for u in same} == {"/lines/3/incoming/?page=2&q=Marie"}
    assert distinct_views([*same, "/lines/3/incoming/", "/lines/3/missed/"]) == 3
    assert distinct_views([]) == 0


def test_table_rows_count_the_body_only():
    from bench.report import table_rows

    html = (
        "<table><thead><tr><th>When</th></tr></thead><tbody>"
        '<tr class="a"><td>1</td></tr>\n<tr><td>2</td></tr><tr><td>3</td></tr>'
        "</tbody></table><track>"
    )

    assert table_rows(html) == 3
    assert table_rows("<p>No calls yet</p>") == 0


def test_the_team_mix_keeps_to_one_lines_first_pages_mostly_missed():
    from bench.run import TeamMember

    member = TeamMember(7, seed=3)
    requests = [member.next_request() for _ in range(2000)]
    urls = [url for url, _ in requests]

    assert all(u.startswith("/lines/7/") for u in urls)
    first_pages = [u for u in urls if "?" not in u]
    missed = [u for u in first_pages if "/missed/" in u]
    assert 0.45 < len(missed) / len(urls) < 0.65
    assert {"/lines/7/incoming/", "/lines/7/outgoing/"} <= set(first_pages)
    assert 0.05 < sum("page=2" in u for u in urls) / len(urls) < 0.15
    searches = {u for u in urls if "q=" in u}
    assert 0 < len(searches) <= 6  # a few popular searches, not each agent's own
    assert any(htmx for _, htmx in requests) and not all(htmx for _, htmx in requests)


def cost_fixture(team_ratio_cpu: float, calls: int) -> dict:
    def side(cpu_ms: float, upstream: int, views: int) -> dict:
        lat = {"n": 100, "p50_ms": 5.0, "p95_ms": 9.0, "p99_ms": 12.0, "mean_ms": 6.0}
        return {
            "requests": 100,
            "rps": 20.0,
            "errors": 0,
            "latency": lat,
            "upstream_calls": upstream,
            "distinct_views": views,
            "upstream_calls_per_distinct_view": round(upstream / views, 3),
            "server_cpu_ms_per_request": cpu_ms,
        }

    return {
        "name": "default install",
        "cache": "locmem",
        "server": "4 workers x 4 threads (gthread)",
        "users": 10,
        "mix_seconds": 15.0,
        "mixes": {
            "team": {
                "dashboard": side(4.0, calls, 10),
                "plain_proxy": side(4.0 * team_ratio_cpu, 100, 10),
                "cpu_ratio": team_ratio_cpu,
            },
            "browse": {
                "dashboard": side(10.0, 40, 40),
                "plain_proxy": side(35.0, 100, 40),
                "cpu_ratio": 3.5,
            },
        },
        "stampede": {
            "dashboard": {"requests": 50, "errors": 0, "upstream_calls": 1},
            "plain_proxy": {"requests": 50, "errors": 0, "upstream_calls": 50},
        },
        "row_weight": {
            "missed": {"html_bytes": 105_000, "rows": 50, "bytes_per_row": 2100.0},
            "incoming": {"html_bytes": 24_000, "rows": 50, "bytes_per_row": 480.0},
        },
        "plain_proxy_row_weight": {
            "missed": {"html_bytes": 9_000, "rows": 50, "bytes_per_row": 180.0},
            "incoming": {"html_bytes": 10_000, "rows": 50, "bytes_per_row": 200.0},
        },
    }


def test_cost_targets_are_computed_from_the_measured_figures():
    from bench.run import cost_markdown, cost_verdicts, cpu_ratio

    passing = {v.name: v.passed for v in cost_verdicts([cost_fixture(9.0, 10)])}
    failing = {v.name: v for v in cost_verdicts([cost_fixture(2.0, 39)])}

    team = "default install, team mix: server CPU per request, plain proxy / dashboard"
    calls = "default install, team mix: provider calls per distinct view"
    assert passing[team] and passing[calls]
    assert not failing[team].passed and failing[team].line().endswith("2.00x >= 8.00x")
    assert not failing[calls].passed and "3.90 calls <= 1.05 calls" in failing[calls].line()
    assert passing["default install: stampede of 50 makes 1 provider call"]
    assert passing["default install, browse mix: errors on the plain proxy"]
    broken = cost_fixture(9.0, 10)
    broken["mixes"]["browse"]["plain_proxy"]["errors"] = 3
    assert not {v.name: v.passed for v in cost_verdicts([broken])}[
        "default install, browse mix: errors on the plain proxy"
    ]
    assert not passing["missed tab, 50-row htmx partial: bytes per row"]
    assert passing["incoming tab, 50-row htmx partial: bytes per row"]
    assert (
        cpu_ratio(
            {
                "dashboard": {"server_cpu_ms_per_request": 4.0},
                "plain_proxy": {"server_cpu_ms_per_request": 36.0},
            }
        )
        == 9.0
    )

    markdown = "\n".join(cost_markdown([cost_fixture(9.0, 10)]))
    assert "team mix **9.00×**; browse mix **3.50×**" in markdown
    assert "missed 105,000 bytes / 50 rows = **2,100 B/row**" in markdown
    assert "(the plain proxy's bare table: missed 180 B/row over 50 rows;" in markdown
    assert re.search(r"\| team +\| plain proxy +\| +100 \|", markdown)


def test_quick_runs_shorten_everything_and_parts_are_checked():
    quick = parse_args(["--quick"])

    assert (quick.mix_duration, quick.duration, quick.users) == (5.0, 5.0, [10, 50])
    assert parse_args([]).mix_duration == 15.0
    assert parse_args([]).parts == ["latency", "cost", "inbox"]
    assert parse_args(["--parts", "cost"]).parts == ["cost"]
    with pytest.raises(SystemExit):
        parse_args(["--parts", "speed"])


def inbox_fixture(shown: list[int | None], slowest_ms: float) -> dict:
    lat = {"n": 3, "p50_ms": 800.0, "p95_ms": 900.0, "p99_ms": 950.0, "mean_ms": 820.0}
    return {
        "open_callers": 500,
        "latency_s": 0.15,
        "cache": "locmem",
        "seeded": "provider only: nothing filed before the first load",
        "filed_before": [0, 0, 0],
        "warmup_ms": 480.5,
        "cold": {
            **lat,
            "max_ms": slowest_ms,
            "upstream_calls_each": [9, 9, 9],
            "shown_open_each": shown,
            "filed_open_each": [500, 500, 500],
        },
        "refresh": {**lat, "p50_ms": 600.0, "max_ms": 700.0, "upstream_calls_each": [7, 7, 7]},
        "hit": {**lat, "p50_ms": 20.0, "upstream_calls": 0},
        "status_codes": [200],
    }


def test_inbox_targets_check_the_slowest_cold_load_and_the_callers_it_shows():
    from bench.run import inbox_markdown, inbox_verdicts, shown_open_count

    passing = {v.name: v for v in inbox_verdicts(inbox_fixture([500, 500, 500], 1200.0))}
    failing = {v.name: v for v in inbox_verdicts(inbox_fixture([500, None, 480], 1600.0))}

    slowest = "inbox cold load (500 missed callers at the provider) at 150 ms latency, slowest"
    shown = "inbox shows 500 open callers after each cold load, fewest"
    assert all(v.passed for v in passing.values())
    assert failing[slowest].line() == f"FAIL  {slowest}: 1600.00 ms <= 1500.00 ms"
    assert failing[shown].line() == f"FAIL  {shown}: 0 == 500"  # a page without the count
    markdown = "\n".join(inbox_markdown(inbox_fixture([500, None, 480], 1600.0)))
    assert "at the provider only (3 lines, nothing filed before the first load)" in markdown
    assert re.search(r"\| refresh \(callers already filed\) +\| +600\.00 .*\| 7, 7, 7", markdown)
    assert "Open callers after the cold load: shown 500, ?, 480; filed 500, 500, 500." in markdown
    assert "empty line's inbox loaded the server's inbox code and templates (480.5 ms)" in markdown
    assert shown_open_count(b"<title>(1,500) Missed calls \xc2\xb7 Line</title>") == 1500
    assert shown_open_count(b"<title>Missed calls</title>") is None


def test_an_inbox_only_run_reports_the_inbox_without_the_latency_tables():
    from bench.run import inbox_verdicts

    results = {
        "started_at": "2026-12-04T12:00:00+00:00",
        "machine": {"cpu": "CPU", "cores": 2, "memory": "1 GiB", "os": "Linux", "python": "3.12"},
        "inbox": inbox_fixture([500, 500, 500], 1200.0),
    }
    results["verdicts"] = [{"line": v.line()} for v in inbox_verdicts(results["inbox"])]
    markdown = to_markdown(results)

    assert "## Inbox" in markdown and "## Latency" not in markdown
    assert "PASS  inbox files 500 open callers in each cold load, fewest: 500 == 500" in markdown


def test_an_inbox_only_run_writes_its_own_files_and_a_whole_run_the_shared_ones():
    from bench.run import results_stem

    assert results_stem(parse_args(["--parts", "inbox"]).parts) == "inbox-results"
    assert results_stem(parse_args([]).parts) == "results"
    assert results_stem(parse_args(["--parts", "latency,inbox"]).parts) == "results"


def test_only_a_shown_error_banner_counts_not_the_hidden_htmx_ones():
    hidden = (
        b'<p id="response-error" class="banner banner-error" role="alert" hidden>x</p>'
        b'<p id="server-error" class="banner banner-error" role="alert" hidden>y</p>'
    )
    assert not shows_error_banner(hidden)
    shown = hidden + b'<div class="banner banner-error" role="alert">SMSMobileAPI failed</div>'
    assert shows_error_banner(shown)
    assert not shows_error_banner(b'<div class="banner">fine</div>')
