"""Headless Chromium for the page tests: the rendered DOM, its visible text, and a screenshot
kept as a test artifact.

Screenshots are written to pytest's ``tmp_path`` and copied to ``test-artifacts/<name>.png``
at the repository root (gitignored), so a CI run can keep them. Without Chromium the tests
skip, unless ``VRRULES_REQUIRE_CHROMIUM`` is set (``.ci/run`` sets it): then they fail.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

# what must never show on a page: Markdown left unrendered, Python reprs, "None -> value"
FORBIDDEN = ("**", "|---|", "{'", "None ->")


def _flags(profile: Path) -> list[str]:
    return [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
    ]


def require_chromium() -> str:
    if CHROMIUM is None:
        if os.environ.get("VRRULES_REQUIRE_CHROMIUM"):
            pytest.fail("VRRULES_REQUIRE_CHROMIUM is set but chromium is not installed")
        pytest.skip("Chromium is not installed here (Debian package 'chromium'); .ci/run installs it")
    return CHROMIUM


def rendered(page: Path, tmp_path: Path, name: str, height: int = 1400) -> str:
    """The page's DOM as Chromium builds it, after taking a screenshot of it (kept as
    ``test-artifacts/<name>.png``)."""
    chromium = require_chromium()
    flags = _flags(tmp_path / f"profile-{name}")
    done = subprocess.run(
        [chromium, *flags, "--dump-dom", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    shot = tmp_path / f"{name}.png"
    subprocess.run(
        [chromium, *flags, f"--screenshot={shot}", f"--window-size=1200,{height}", page.as_uri()],
        capture_output=True,
        timeout=120,
        check=True,
    )
    assert shot.stat().st_size > 10_000  # a real page was painted, not a blank one
    ARTIFACTS.mkdir(exist_ok=True)
    shutil.copyfile(shot, ARTIFACTS / shot.name)
    return done.stdout


class PageText(HTMLParser):
    """What a reader sees: the text outside style and script, and the text of each element by id."""

    _HIDDEN = ("style", "script", "head")

    def __init__(self, dom: str) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.by_id: dict[str, str] = {}
        self._stack: list[tuple[str, str | None]] = []
        self.tags: dict[str, int] = {}
        self.ids: set[str] = set()
        self.links: list[str] = []
        self.feed(dom)
        self.close()

    _VOID = ("br", "hr", "img", "meta", "link", "input", "col", "area", "base", "wbr", "source")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags[tag] = self.tags.get(tag, 0) + 1
        attributes = dict(attrs)
        element_id = attributes.get("id")
        if element_id:
            self.ids.add(element_id)
            self.by_id.setdefault(element_id, "")
        if tag == "a" and attributes.get("href"):
            self.links.append(str(attributes["href"]))
        if tag not in self._VOID:
            self._stack.append((tag, element_id))

    def handle_endtag(self, tag: str) -> None:
        for index in range(len(self._stack) - 1, -1, -1):
            if self._stack[index][0] == tag:
                del self._stack[index:]
                break

    def handle_data(self, data: str) -> None:
        if any(tag in self._HIDDEN for tag, _ in self._stack):
            return
        self.parts.append(data)
        for _, element_id in self._stack:
            if element_id:
                self.by_id[element_id] += data

    @property
    def text(self) -> str:
        return "".join(self.parts)


def assert_reads_clean(text: str) -> None:
    """No Markdown syntax or Python repr is visible in the page's text."""
    for token in FORBIDDEN:
        assert token not in text, f"{token!r} shows on the page: ...{_around(text, token)}..."


def _around(text: str, token: str) -> str:
    at = text.index(token)
    return text[max(0, at - 80) : at + 80]
