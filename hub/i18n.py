"""The bot answers in the user's language: Korean when they wrote Korean, else English."""

from __future__ import annotations

import re

_HANGUL = re.compile(r"[\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f]")


def lang_of(text: str) -> str:
    return "ko" if _HANGUL.search(text) else "en"


def pick(lang: str, ko: str, en: str) -> str:
    return ko if lang == "ko" else en
