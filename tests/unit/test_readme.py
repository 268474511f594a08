"""The README is outside the docs site, so `make docs` does not check its links: this does. Every relative link
names a file in the repository, and every docs page is linked from it."""

import re
from pathlib import Path

ROOT = Path(__file__).parents[2]


def test_the_readmes_links_name_files_that_exist() -> None:
    readme = (ROOT / "README.md").read_text()
    targets = re.findall(r"\]\(([^)\s]+)\)", readme)
    local = [t.split("#", 1)[0] for t in targets if not re.match(r"[a-z]+:", t)]
    assert local, "the README links to no page"
    missing = [t for t in local if not (ROOT / t).exists()]
    assert not missing, missing
    pages = {p.relative_to(ROOT).as_posix() for p in (ROOT / "docs").glob("*.md")}
    assert pages <= set(local), sorted(pages - set(local))
