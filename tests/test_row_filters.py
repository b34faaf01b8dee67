"""The small filters the call rows use instead of costlier template tags: they must give
exactly what the tags they replace gave."""

from __future__ import annotations

import re

import pytest
from django.template import Context, Template
from django.template.defaultfilters import truncatechars
from django.test import RequestFactory

from dashboard.calls.templatetags.calls import clip, searching


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"q": "Dupont", "from": "2026-11-01", "page": "3"},
        {"sort": "duration", "dir": "asc", "per_page": "100", "page": "2"},
        {"from": "2026-11-01", "to": "2026-11-20", "q": "+32 470 & co"},
    ],
)
def test_searching_gives_the_query_tags_link(params):
    context = {"params": params, "number": "+32 470/12 34 56", "request": RequestFactory().get("/")}
    tag = "{% query params q=number page=None cursor=None before=None scan=None %}"
    as_tag = Template("{% load calls %}" + tag).render(Context(context))
    as_filter = Template("{% load calls %}{{ params|searching:number }}").render(Context(context))
    assert as_filter == as_tag  # both as the page gets them (escaped: &amp;)
    assert searching(params, "0470").startswith("?")
    assert not re.search(r"(^\?|;)page=", as_filter)  # back to the first page


@pytest.mark.parametrize("length", [3, 10, 80])
@pytest.mark.parametrize("value", ["", "Marie", "Dupont-Lefèvre et Fils, Bruxelles", "x" * 200])
def test_clip_cuts_like_truncatechars(value, length):
    assert clip(value, length) == truncatechars(value, length)
