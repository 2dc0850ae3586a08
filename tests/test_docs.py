"""README.md and docs/ stay inside the repository: no path outside it, no dead link."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
OUTSIDE = re.compile(r"\.\./shared|/work/|(?<![\w.])\.\./|file:///(?!\S*my_conf)")
# Pages other parts of the project are writing at the same time (linked as "see also").
NEIGHBOURS = {
    "fidelity.md",
    "reliability.md",
    "methods.md",
    "curvature.md",
    "running.md",
    "reproduce-cifar.md",
}


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_no_path_outside_the_repository(page):
    for number, line in enumerate(page.read_text().splitlines(), 1):
        match = OUTSIDE.search(line)
        assert match is None, f"{page.name}:{number}: {match.group(0)!r} in {line.strip()!r}"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_relative_link_resolves_inside_the_repository(page):
    for target in re.findall(r"\]\(([^)\s]+)\)", page.read_text()):
        if re.match(r"[a-z]+://", target) or target.startswith("#"):
            continue
        path = (page.parent / target.split("#", 1)[0]).resolve()
        assert path.is_relative_to(ROOT), f"{page.name}: {target} leaves the repository"
        if path.name in NEIGHBOURS and path.parent == ROOT / "docs":
            continue
        assert path.exists(), f"{page.name}: {target} does not exist"


def test_docs_index_links_every_page_and_the_neighbours():
    index = (ROOT / "docs" / "index.md").read_text()
    for page in PAGES[1:]:
        if page.name != "index.md":
            assert f"]({page.name})" in index, page.name
    for name in NEIGHBOURS:
        assert f"]({name})" in index, name


def test_the_index_maps_every_page():
    index = (ROOT / "docs" / "index.md").read_text()
    linked = set(re.findall(r"\]\(([\w-]+\.md)(?:#[^)]*)?\)", index))
    pages = {p.name for p in (ROOT / "docs").glob("*.md")} - {"index.md"}
    assert not sorted(pages - linked), f"docs/index.md links no {sorted(pages - linked)}"


def test_the_readme_is_a_front_page():
    assert len((ROOT / "README.md").read_text().splitlines()) <= 200
