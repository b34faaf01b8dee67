"""Missed calls as a team inbox (issue #17).

For other apps: `episodes.record_missed_call(line, call)` / `episodes.record_calls(line,
calls)` file calls; `models.Episode` is the per-caller state; `targets.business_schedule(line)`
with `hours.business_minutes_between` measures waiting time in business hours.
"""
