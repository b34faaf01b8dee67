"""The release id: a digest of what decides the HTML (code, templates, catalogues) and the
package version, computed once when the release is built, never by a running server.

The build writes it (the Dockerfile at image build, `make serve`/`make demo` before they
start the server): `python -m dashboard.release --write`. Settings read that file, or the
DASHBOARD_RELEASE environment variable when an operator names releases themselves.
A content digest rather than only the version: a deploy that changes a template without
bumping the version still gets a release of its own, so two releases sharing one Redis
(a rolling deploy) never serve each other's cached HTML.

No Django import: it runs at build time, before settings can load.
"""

from __future__ import annotations

import hashlib
import re
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
RELEASE_FILE = BASE_DIR / "RELEASE"
SOURCES = ("dashboard", "templates")
SUFFIXES = (".py", ".html", ".mo")


def version(base: Path = BASE_DIR) -> str:
    """The project's version, from pyproject.toml ("0" in a copy without it)."""
    try:
        text = (base / "pyproject.toml").read_text()
    except FileNotFoundError:
        return "0"
    found = re.search(r'^version = "([^"]+)"', text, re.M)
    return found[1] if found else "0"


def compute(base: Path = BASE_DIR) -> str:
    """`<version>+<digest>` of every source file that decides a page's HTML."""
    digest = hashlib.sha256()
    for folder in SOURCES:
        for path in sorted(base.joinpath(folder).rglob("*")):
            if path.suffix in SUFFIXES and "__pycache__" not in path.parts:
                name = path.relative_to(base).as_posix()
                digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    return f"{version(base)}+{digest.hexdigest()[:16]}"


def read(base: Path = BASE_DIR) -> str | None:
    """The release the build wrote, or None when this checkout was never built."""
    try:
        return (base / RELEASE_FILE.name).read_text().strip() or None
    except FileNotFoundError:
        return None


def main(argv: list[str]) -> int:
    release = compute()
    if argv == ["--write"]:
        RELEASE_FILE.write_text(release + "\n")
    elif argv:
        print("usage: python -m dashboard.release [--write]", file=sys.stderr)
        return 2
    print(release)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
