"""The documentation renders and tells the truth.

Every Markdown file in the repository has balanced code fences (an unclosed fence swallows the
rest of the page), relative links point at files that exist, and the README's first walk through
the API runs, as written, against a real server.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.live import ROOT, live_server

FENCE = re.compile(r"^\s*(```|~~~)")
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def markdown_files() -> list[Path]:
    out = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "*.md"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return [ROOT / name for name in out if (ROOT / name).is_file()]


def unclosed_fence(text: str) -> int | None:
    """The line number of a fence that is never closed, or None."""
    opened: tuple[int, str] | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        match = FENCE.match(line)
        if not match:
            continue
        if opened is None:
            opened = (number, match.group(1))
        elif match.group(1) == opened[1]:
            opened = None
    return opened[0] if opened else None


def test_unclosed_fence_is_found() -> None:
    assert unclosed_fence("a\n```sh\nx\n```\nb\n") is None
    assert unclosed_fence("a\n```sh\nx\n## Heading\n") == 2
    assert unclosed_fence("```\n~~~\n```\n```py\n") == 4


@pytest.mark.parametrize("path", markdown_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_markdown_fences_are_balanced(path: Path) -> None:
    line = unclosed_fence(path.read_text(encoding="utf-8"))
    assert line is None, f"{path.relative_to(ROOT)}:{line}: code fence never closed"


@pytest.mark.parametrize("path", markdown_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(path: Path) -> None:
    broken = [
        target
        for target in LINK.findall(path.read_text(encoding="utf-8"))
        if "://" not in target
        and not target.startswith("mailto:")
        and not (path.parent / target).exists()
    ]
    assert broken == [], f"{path.relative_to(ROOT)} links to missing files: {broken}"


def readme_walk() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## A first walk through the API", 1)[1]
    match = re.search(r"```sh\n(.*?)```", section, re.S)
    assert match, "README has no walk-through block"
    return match.group(1)


@pytest.mark.slow
def test_readme_walk_runs_against_a_real_server(fresh_database_url: str) -> None:
    env = {**os.environ, "ENROLL_DATABASE_URL": fresh_database_url}
    created = subprocess.run(
        [sys.executable, "-m", "service", "keys", "create", "--role", "admin", "--name", "walk"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    token = created.stdout.strip().splitlines()[-1]
    with live_server(fresh_database_url) as base_url:
        script = readme_walk().replace("http://127.0.0.1:8000", base_url)
        ran = subprocess.run(
            ["bash", "-c", "set -euo pipefail\n" + script],
            env={**env, "TOKEN": token},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert ran.returncode == 0, ran.stderr
    printed = ran.stdout.replace(" ", "")
    assert '"holder_name":"AyeshaKhan"' in printed  # step 5: the certificate verified
    assert '"code":"zte-100k"' in printed  # step 6: the progress report
    assert '"achieved":1' in printed
