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


def _keys(path: Path) -> list[str]:
    return re.findall(r'^\s{2}"([^"]+)":', path.read_text(), re.MULTILINE)


def test_every_string_is_in_korean_and_english() -> None:
    en = _keys(STATIC / "js" / "strings_en.js")
    ko = _keys(STATIC / "js" / "strings_ko.js")
    assert len(en) == len(set(en)) and len(ko) == len(set(ko)), "a key is defined twice"
    assert set(en) == set(ko), set(en) ^ set(ko)
    used = set()
    for module in MODULES:
        used |= set(re.findall(r'\bt[n]?\("([a-zA-Z.]+)"', module.read_text()))
        used |= set(re.findall(r'data-i18n(?:-[a-z]+)?="([a-zA-Z.]+)"', module.read_text()))
    used |= set(
        re.findall(r'data-i18n(?:-[a-z]+)?="([a-zA-Z.]+)"', (STATIC / "index.html").read_text())
    )
    # tn("key", n) reads key.one and key.other
    missing = {k for k in used if k not in en and not {f"{k}.one", f"{k}.other"} <= set(en)}
    assert not missing, missing


def test_every_error_code_and_status_reads_as_words_in_both_languages() -> None:
    """A card shows a sentence for every code the protocol has (protocol/codes.py, messages)."""
    from protocol.codes import ErrorCode
    from protocol.messages import TaskStatus

    en = set(_keys(STATIC / "js" / "strings_en.js"))
    for code in ErrorCode:
        assert f"error.{code.value}" in en, code
    for status in TaskStatus.__args__:  # type: ignore[attr-defined]
        assert f"status.{status}" in en, status
    for reason in ("REJECTED", "EXPIRED", "AGENT_NOT_CONNECTED", "DEADLINE", "CANCELLED"):
        assert f"reason.{reason}" in en, reason
    for reason in ("AGENT_RESTARTED", "INTERNAL"):
        assert f"reason.{reason}" in en, reason


@pytest.mark.parametrize("module", [*MODULES, *sorted(STATIC.glob("*.css"))], ids=lambda p: p.name)
def test_modules_stay_small(module: Path) -> None:
    assert len(module.read_text().splitlines()) < 400, f"{module.name}: split it"
