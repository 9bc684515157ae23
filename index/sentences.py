"""Sentence boundaries with exact character offsets.

Every span returned satisfies ``text[start:end] == sentence`` with no surrounding white space, which is what
lets a citation quote be checked against its source. Rule-based and fast: it knows common abbreviations
("Sen.", "U.S.", "Dr."), initials, decimals and times ("5:01"), quotes after the full stop, and whether the
text is one paragraph a line (a news article) or hard-wrapped (text extracted from a PDF, Markdown).
"""

from __future__ import annotations

import re
from typing import NamedTuple

ABBREVIATIONS = frozenset(
    """
    mr mrs ms dr prof sen rep gov gen lt col capt sgt maj adm cmdr st jr sr rev hon pres sec dept
    vol al etc vs cf ca approx inc corp co ltd llc bros mt ft jan feb mar apr jun jul
    aug sep sept oct nov dec mon tue wed thu fri sat sun u.s u.k u.n e.g i.e a.m p.m ph.d
    """.split()
)

# Abbreviations only before a number ("No. 5", "Fig. 2"); elsewhere "no." ends a sentence.
NUMBERED = frozenset("no nos fig figs eq vol p pp".split())

# Hard-wrapped lines longer than this are wrapped prose rather than one paragraph each.
_MAX_SENTENCE_CHARS = 600

_BOUNDARY = re.compile(
    r"""
    (?P<end>[.!?]+|…)           # terminal punctuation
    [”’"')\]]*                  # closing quotes or brackets belong to the sentence
    (?=\s+[“‘"'(\[]?[A-Z0-9—–-]) # white space, then something that can start a sentence
    """,
    re.VERBOSE,
)
_PREV_WORD = re.compile(r"([A-Za-z][A-Za-z.]*)$")
_BLOCK_START = re.compile(r"^\s*(#{1,6}\s|[-*+]\s|\d+[.)]\s|>\s)")
_TERMINAL = tuple(".!?…:”’\"')")


class Span(NamedTuple):
    """A half-open character range ``[start, end)`` in a source text, and the paragraph it lies in."""

    start: int
    end: int
    block: int = 0


def _is_wrapped(lines: list[str]) -> bool:
    """True when most non-blank lines stop mid-sentence, as in text hard-wrapped at a column."""
    content = [line.rstrip() for line in lines if line.strip()]
    if len(content) < 4:
        return False
    open_ended = sum(1 for line in content if not line.endswith(_TERMINAL))
    return open_ended / len(content) > 0.5


def _blocks(text: str) -> list[Span]:
    """Paragraph-like blocks: each line, or (for wrapped text) runs of lines between blank lines."""
    lines = text.splitlines(keepends=True)
    wrapped = _is_wrapped(lines)
    blocks: list[Span] = []
    pos = 0
    start: int | None = None
    for line in lines:
        line_start, pos = pos, pos + len(line)
        if not line.strip():
            if start is not None:
                blocks.append(Span(start, line_start))
                start = None
            continue
        if start is not None and (not wrapped or _BLOCK_START.match(line)):
            blocks.append(Span(start, line_start))
            start = None
        if start is None:
            start = line_start
    if start is not None:
        blocks.append(Span(start, pos))
    return blocks


def _strip(text: str, start: int, end: int) -> Span | None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return Span(start, end) if end > start else None


def _is_abbreviation(text: str, dot: int) -> bool:
    """Whether the full stop at ``text[dot]`` ends an abbreviation or an initial rather than a sentence."""
    match = _PREV_WORD.search(text, max(0, dot - 12), dot)
    if not match:
        return False
    word = match.group(1).lower().rstrip(".")
    if word in NUMBERED:
        return text[dot + 1 : dot + 3].strip()[:1].isdigit()
    return len(word) == 1 or word in ABBREVIATIONS


def _split_long(text: str, span: Span, limit: int, block: int) -> list[Span]:
    """Cut an over-long run (a table row, a list with no full stops) at white space near ``limit``."""
    out: list[Span] = []
    start, end, _ = span
    while end - start > limit:
        cut = text.rfind(" ", start + limit // 2, start + limit)
        if cut <= start:
            cut = start + limit
        piece = _strip(text, start, cut)
        if piece:
            out.append(piece._replace(block=block))
        start = cut
    tail = _strip(text, start, end)
    if tail:
        out.append(tail._replace(block=block))
    return out


def split_sentences(text: str, max_chars: int = _MAX_SENTENCE_CHARS) -> list[Span]:
    """Split ``text`` into sentence spans, in order, covering every non-blank character.

    Each span's ``block`` numbers the paragraph it belongs to, so callers can tell neighbours apart.
    """
    spans: list[Span] = []
    for number, block in enumerate(_blocks(text)):
        start = block.start
        for match in _BOUNDARY.finditer(text, block.start, block.end):
            if match.group("end") == "." and _is_abbreviation(text, match.start("end")):
                continue
            piece = _strip(text, start, match.end())
            if piece:
                spans.extend(_split_long(text, piece, max_chars, number))
            start = match.end()
        piece = _strip(text, start, block.end)
        if piece:
            spans.extend(_split_long(text, piece, max_chars, number))
    return spans
