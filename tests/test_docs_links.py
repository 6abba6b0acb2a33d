"""README.md and docs/*.md, read the way a new user reads them, in a fresh clone of the
repository with nothing beside it (no `../shared`): every link resolves to a file of the
clone (and its `#anchor` to a heading there), and every repository path the text names
exists. The clone is the tracked files only (`git ls-files`), so a file that was never
added fails here as it would for someone who clones.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

import pytest
from harness import REPO

#: the top-level folders a path in the text may start with
FOLDERS = ("protocol", "cmdb", "hub", "agent", "tests", "bench", "docs", "examples", "nginx")
FENCE = re.compile(r"^\s*```")
LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
HTML_LINK = re.compile(r"<(?:img|a)\b[^>]*?\b(?:src|href)=\"([^\"]+)\"", re.I)
CODE_SPAN = re.compile(r"`([^`\n]+)`")
REPO_PATH = re.compile(rf"^(?:{'|'.join(FOLDERS)}|scripts|\.ci)/[\w.@/-]*$")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")


def tracked_files(repo: Path = REPO) -> list[str]:
    """The files a clone of the repository has (the working tree's copy of each)."""
    listed = subprocess.run(
        ["git", "-C", str(repo), "ls-files", "-z"], capture_output=True, check=True
    ).stdout.decode()
    return [name for name in listed.split("\0") if name and (repo / name).is_file()]


def fresh_clone(target: Path) -> Path:
    """The tracked files copied into `target`/guardia: a clone with no `../shared` beside it."""
    clone = target / "guardia"
    for name in tracked_files():
        (clone / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, clone / name)
    assert not (target / "shared").exists()
    return clone


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return fresh_clone(tmp_path_factory.mktemp("clone"))


def documents(root: Path) -> list[Path]:
    return [root / "README.md", *sorted((root / "docs").glob("*.md"))]


def prose_lines(path: Path) -> list[tuple[int, str]]:
    """(line number, text) of the lines outside fenced code blocks."""
    lines, fenced = [], False
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if FENCE.match(line):
            fenced = not fenced
        elif not fenced:
            lines.append((number, line))
    return lines


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, markup and punctuation out, spaces to -."""
    text = re.sub(r"[`*_]|\[([^\]]*)\]\([^)]*\)", r"\1", heading).strip().lower()
    kept = "".join(
        c for c in text if c in " -_" or unicodedata.category(c)[0] in "LN" or c.isdigit()
    )
    return kept.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    found: set[str] = set()
    for _, line in prose_lines(path):
        match = HEADING.match(line)
        if match:
            base = slug(match.group(2))
            name, n = base, 0
            while name in found:  # GitHub numbers repeated headings: name, name-1, ...
                n += 1
                name = f"{base}-{n}"
            found.add(name)
    return found


@dataclass(frozen=True)
class Link:
    document: Path
    line: int
    target: str

    def where(self, root: Path) -> str:
        return f"{self.document.relative_to(root)}:{self.line}: {self.target}"


def links(path: Path) -> list[Link]:
    found = []
    for number, line in prose_lines(path):
        without_code = CODE_SPAN.sub("", line)
        for pattern in (LINK, HTML_LINK):
            found += [Link(path, number, m.group(1)) for m in pattern.finditer(without_code)]
    return found


def test_the_clone_has_the_documents_the_readme_promises(clone: Path) -> None:
    names = {p.name for p in documents(clone)}
    assert {"README.md", "architecture.md", "protocol.md", "operations.md"} <= names
    assert (clone / "examples" / "cmdb.yaml").is_file()
    assert (clone / "examples" / "agent.yaml").is_file()


def test_every_link_resolves_in_a_fresh_clone(clone: Path) -> None:
    broken, outside = [], []
    for document in documents(clone):
        for link in links(document):
            if re.match(r"^[a-z][a-z0-9+.-]*:", link.target):
                outside.append(link.target)  # http(s): not fetched (no network in tests)
                continue
            file_part, _, anchor = link.target.partition("#")
            target = (document.parent / unquote(file_part)).resolve() if file_part else document
            if not target.is_relative_to(clone.resolve()) or not target.exists():
                broken.append(link.where(clone))
            elif anchor and target.suffix == ".md" and anchor not in anchors(target):
                broken.append(f"{link.where(clone)} (no heading #{anchor} in {target.name})")
    assert not broken, "links that do not resolve in a fresh clone:\n" + "\n".join(broken)
    assert all(t.startswith("https://") for t in outside), outside


def test_every_repository_path_the_docs_name_exists(clone: Path) -> None:
    missing = []
    for document in documents(clone):
        for number, line in prose_lines(document):
            for span in CODE_SPAN.findall(line):
                path = span.strip().rstrip(".,:;")
                if REPO_PATH.match(path) and not (clone / path).exists():
                    missing.append(f"{document.relative_to(clone)}:{number}: {path}")
    assert not missing, "paths named in the docs that the clone lacks:\n" + "\n".join(missing)


def test_anchors_follow_githubs_rules() -> None:
    """The slugs the link check relies on, for the headings the README links to."""
    assert slug("Environment (the hub)") == "environment-the-hub"
    assert slug("Agent configuration (`agent.yaml`)") == "agent-configuration-agentyaml"
    assert slug("Bridges: Slack, Mattermost, messenger webhooks") == (
        "bridges-slack-mattermost-messenger-webhooks"
    )
    assert slug("운영 상황실 (Operations)") == "운영-상황실-operations"
