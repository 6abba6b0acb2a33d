"""The web app's files themselves: a strict CSP, no inline script, no HTML built from
strings, and every string the modules use present in both languages."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from harness import REPO

STATIC = REPO / "hub" / "web" / "static"
MODULES = sorted((STATIC / "js").glob("*.js"))


def test_the_page_has_a_strict_content_security_policy_and_no_inline_script() -> None:
    html = (STATIC / "index.html").read_text()
    [csp] = re.findall(r'http-equiv="Content-Security-Policy"\s+content="([^"]+)"', html)
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";") if d.strip())
    assert directives["script-src"] == "'self'"
    assert directives["default-src"] == "'none'"
    assert "unsafe" not in csp
    assert re.findall(r"<script\b[^>]*>", html) == ['<script type="module" src="js/main.js">']
    assert "</script>" in html and not re.search(r"<script[^>]*>\s*\S+\s*</script>", html)
    assert not re.search(r"\son[a-z]+=", html), "inline event handlers"
    assert not re.search(r"\sstyle=", html), "inline styles"
    assert "http://" not in html and "https://" not in html, "everything comes from the hub"


@pytest.mark.parametrize("module", MODULES, ids=lambda p: p.name)
def test_no_module_turns_strings_into_html_or_code(module: Path) -> None:
    source = module.read_text()
    for sink in (
        "innerHTML",
        "outerHTML",
        "insertAdjacentHTML",
        "document.write",
        "eval(",
        "new Function",
        'setAttribute("on',
        "javascript:",
    ):
        assert sink not in source, f"{module.name} uses {sink}"
    assert "https://" not in source and "http://" not in source


def _keys(block: str) -> set[str]:
    return set(re.findall(r'^\s{4}"([^"]+)":', block, re.MULTILINE))


def test_every_string_is_in_korean_and_english() -> None:
    source = (STATIC / "js" / "i18n.js").read_text()
    en_block = source.split("\n  en: {", 1)[1].split("\n  },", 1)[0]
    ko_block = source.split("\n  ko: {", 1)[1].split("\n  },", 1)[0]
    en, ko = _keys(en_block), _keys(ko_block)
    assert en == ko, en ^ ko
    used = set()
    for module in MODULES:
        used |= set(re.findall(r'\bt\("([a-zA-Z.]+)"', module.read_text()))
        used |= set(re.findall(r'data-i18n(?:-[a-z]+)?="([a-zA-Z.]+)"', module.read_text()))
    used |= set(
        re.findall(r'data-i18n(?:-[a-z]+)?="([a-zA-Z.]+)"', (STATIC / "index.html").read_text())
    )
    assert used <= en, used - en
