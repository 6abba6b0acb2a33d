"""Finding many known terms in a text at once: longest match, case- and spacing-insensitive.

Operators write '급여시스템WAS재기동' as readily as '급여 시스템 WAS 재기동', so terms are
matched against the text with its whitespace removed, through a character trie built once.
Whitespace still counts where Latin letters meet: 'was' must not match inside 'wash', nor
'restart' inside 'prerestart', so a term that begins or ends with a Latin letter or digit
must begin or end at a word boundary of the original text. Korean needs no such rule:
particles attach to the word ('급여시스템에서').
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from cmdb.index import normalize_name


class Mention(NamedTuple):
    """A term found in a text: its span in the text, what kind of term, and what it names."""

    start: int
    end: int
    kind: str
    value: str


class _Entry(NamedTuple):
    kind: str
    value: str


class _TrieNode:
    __slots__ = ("children", "entries", "left_word", "right_word")

    def __init__(self) -> None:
        self.children: dict[str, _TrieNode] = {}
        self.entries: tuple[_Entry, ...] = ()
        self.left_word = False
        self.right_word = False


def _is_word(char: str) -> bool:
    return char.isascii() and char.isalnum()


class TermMatcher:
    """Built once from (term, kind, value) triples; `find` is then a single pass."""

    def __init__(self, terms: Iterable[tuple[str, str, str]]) -> None:
        self._root = _TrieNode()
        for term, kind, value in terms:
            key = normalize_name(term)
            if not key:
                continue
            node = self._root
            for char in key:
                node = node.children.setdefault(char, _TrieNode())
            entry = _Entry(kind, value)
            if entry not in node.entries:
                node.entries = (*node.entries, entry)
            node.left_word = _is_word(key[0])
            node.right_word = _is_word(key[-1])

    def find(self, text: str) -> list[Mention]:
        """Non-overlapping mentions in text order; where terms overlap the longest wins."""
        lowered = text.lower()
        if len(lowered) != len(text):  # a few characters lower-case to two ('İ')
            lowered = "".join(c.lower() if len(c.lower()) == 1 else c for c in text)
        chars: list[str] = []
        origin: list[int] = []
        gap: list[bool] = []
        pending_gap = True
        for position, char in enumerate(lowered):
            if char.isspace():
                pending_gap = True
                continue
            chars.append(char)
            origin.append(position)
            gap.append(pending_gap)
            pending_gap = False
        count = len(chars)
        gap.append(True)
        found: list[tuple[int, int, _TrieNode]] = []
        root = self._root.children
        for start in range(count):
            node = root.get(chars[start])
            end = start
            while node is not None:
                end += 1
                if node.entries and (
                    (not node.left_word or gap[start] or not _is_word(chars[start - 1]))
                    and (not node.right_word or gap[end] or not _is_word(chars[end]))
                ):
                    found.append((start, end, node))
                if end >= count:
                    break
                node = node.children.get(chars[end])
        if not found:
            return []
        found.sort(key=lambda hit: (hit[0] - hit[1], hit[0]))
        taken = bytearray(count)
        mentions: list[Mention] = []
        for start, end, node in found:
            if any(taken[start:end]):
                continue
            taken[start:end] = b"\x01" * (end - start)
            first, last = origin[start], origin[end - 1] + 1
            mentions.extend(Mention(first, last, e.kind, e.value) for e in node.entries)
        mentions.sort()
        return mentions
