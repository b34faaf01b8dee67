"""The release id (dashboard/release.py): fixed when a release is built, different for
every change of code, templates or catalogues, and part of every cached fragment's key."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from dashboard import release
from tests.envsettings import load_settings

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A copy of what the release id is computed from."""
    for folder in release.SOURCES:
        shutil.copytree(ROOT / folder, tmp_path / folder, ignore=shutil.ignore_patterns("__py*"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    return tmp_path


def test_a_change_of_template_code_or_catalogue_is_another_release(checkout):
    first = release.compute(checkout)
    assert first == release.compute(checkout)  # the same tree, the same id
    assert first.startswith(release.version(checkout) + "+")
    changed = []
    for name in ("templates/base.html", "dashboard/urls.py"):
        path = checkout / name
        original = path.read_bytes()
        path.write_bytes(original + b"\n")
        changed.append(release.compute(checkout))
        path.write_bytes(original)
    mo = checkout / "dashboard/locale/ja/LC_MESSAGES/django.mo"
    mo.write_bytes(mo.read_bytes() + b"\0")
    changed.append(release.compute(checkout))
    assert len({first, *changed}) == 4


def test_the_build_writes_it_and_settings_read_it_from_there(checkout, monkeypatch, capsys):
    monkeypatch.setattr(release, "BASE_DIR", checkout)
    monkeypatch.setattr(release, "RELEASE_FILE", checkout / "RELEASE")
    assert release.read(checkout) is None  # never built
    assert release.main(["--write"]) == 0
    written = capsys.readouterr().out.strip()
    assert written == release.compute(checkout) == release.read(checkout)
    # Editing the tree afterwards changes nothing for the running release: no re-reading.
    (checkout / "templates/base.html").write_text("changed")
    assert release.read(checkout) == written


def test_an_operator_may_name_the_release(monkeypatch, tmp_path):
    computed = load_settings(monkeypatch, tmp_path, DASHBOARD_RELEASE=" v2.3.1-abc123 ")
    assert computed["RELEASE"] == "v2.3.1-abc123"
