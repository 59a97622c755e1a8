"""The browser tests assert through Playwright's `expect`, which waits for the page, never with
a bare `assert` on `is_visible()`, `inner_text()` or `text_content()`, which read the page as it
is at that instant: after a click that submits a form the old page may still be there, and the
test passes or fails by the race (one did, in CI, on a redirect back to the same URL)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

E2E = Path(__file__).parent / "e2e"
INSTANT_READS = {"is_visible", "is_hidden", "inner_text", "text_content", "is_checked"}


def instant_reads_in_asserts(source: str) -> list[tuple[int, str]]:
    """(line, method) of every call to an instant page read inside an `assert` statement."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Assert):
            continue
        for inner in ast.walk(node.test):
            if (
                isinstance(inner, ast.Call)
                and isinstance(inner.func, ast.Attribute)
                and inner.func.attr in INSTANT_READS
            ):
                found.append((inner.lineno, inner.func.attr))
    return sorted(found)


@pytest.mark.parametrize("module", sorted(E2E.glob("test_*.py")), ids=lambda path: path.name)
def test_browser_tests_assert_with_expect(module: Path) -> None:
    found = instant_reads_in_asserts(module.read_text())
    assert not found, f"{module.name}: use playwright's expect(...) instead of assert at {found}"


def test_the_scan_finds_a_racing_assert() -> None:
    source = (
        "def test_x(page):\n"
        "    page.click('#go')\n"
        "    assert page.locator('#done').is_visible()\n"
        "    assert 'ok' in page.locator('.messages').inner_text()\n"
        "    expect(page.locator('#done')).to_be_visible()\n"
    )
    assert instant_reads_in_asserts(source) == [(3, "is_visible"), (4, "inner_text")]
