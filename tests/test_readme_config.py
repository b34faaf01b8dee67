"""The README's configuration table lists exactly the environment variables the code reads."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
READS = re.compile(
    r"""(?:env\.(?:str|bool|int|float|list|db|cache|url|json)\(\s*|env\(\s*|_required\(\s*|"""
    r"""os\.environ\.get\(\s*|os\.environ\.setdefault\(\s*|os\.environ\[\s*|getenv\(\s*)["']([A-Z][A-Z0-9_]+)["']"""
)
# Read by tooling rather than configured by an operator.
NOT_CONFIGURATION = {
    "DJANGO_SETTINGS_MODULE",
    "CI",
    "REQUIRE_SERVICES",
    "DJANGO_ALLOW_ASYNC_UNSAFE",
}


# settings._required(NAME) reads NAME or the file NAME_FILE names.
SECRET = re.compile(r"""_required\(\s*["']([A-Z][A-Z0-9_]+)["']""")


def variables_read_by_code() -> set[str]:
    names: set[str] = set()
    for path in [*ROOT.joinpath("dashboard").rglob("*.py"), ROOT / "manage.py"]:
        text = path.read_text()
        names |= set(READS.findall(text))
        names |= {f"{name}_FILE" for name in SECRET.findall(text)}
    return names - NOT_CONFIGURATION


def variables_in_readme() -> set[str]:
    readme = ROOT.joinpath("README.md").read_text()
    table = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `([A-Z][A-Z0-9_]+)` \|", table, flags=re.M))


def test_every_variable_the_code_reads_is_documented():
    assert variables_read_by_code() - variables_in_readme() == set()


def test_the_readme_documents_no_variable_the_code_ignores():
    assert variables_in_readme() - variables_read_by_code() == set()
