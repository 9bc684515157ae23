"""HTML for the chat window: answers with linked ``[n]`` markers, the sources panel and the document view.

Everything that comes from a user, a document or an answerer goes through :func:`inert` first: HTML is
escaped, and the characters Markdown acts on are written as character references, so the chat's Markdown
renderer shows them as text instead of building links, images or code from them.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from typing import Any

from index.loader import page_at
from rag.sources import SourceTexts

# HTML's special characters as entities, Markdown's as numeric character references, newlines as <br>.
_INERT = {ch: html.escape(ch, quote=True) for ch in "&<>\"'"}
_INERT.update({ch: f"&#{ord(ch)};" for ch in "\\`*_{}[]()#+-.!|~:$=^@"})
_INERT["\n"] = "<br>"
_MARKER = re.compile(r"\[(\d{1,3})\]")
CONTEXT_CHARS = 600
EMPTY_SOURCES = "Sources of each answer appear here, with the quoted words highlighted."


def inert(text: str) -> str:
    """``text`` as HTML that displays it literally, whether or not Markdown runs over it afterwards."""
    return "".join(_INERT.get(ch, ch) for ch in text)


def cite_anchor(turn: int, n: int) -> str:
    """The element id of citation ``n`` of answer ``turn`` in the sources panel."""
    return f"rag-src-{turn}-{n}"


def question_html(question: str) -> str:
    """A user's message as shown in the chat."""
    return f'<div class="rag-question">{inert(question)}</div>'


def answer_html(answer: Mapping[str, Any], turn: int) -> str:
    """An answer as shown in the chat: ``[n]`` markers link to the sources panel; abstentions look different."""
    understood = answer.get("standalone_question")
    note = f'<div class="rag-understood">Understood as: {inert(understood)}</div>' if understood else ""
    if answer["abstained"]:
        badge = '<span class="rag-badge">Not in the source</span>'
        return f'<div class="rag-abstain">{badge} {inert(answer["answer"])}</div>{note}'
    ids = {int(c["id"]) for c in answer["citations"]}
    checks = answer.get("sentences") or []
    if any(c["status"] != "supported" for c in checks):  # an LLM answer with sentences no source supports
        body = " ".join(
            _linked(c["text"], ids, turn) if c["status"] == "supported" else _unverified(_linked(c["text"], ids, turn))
            for c in checks
        )
    else:
        body = _linked(answer["answer"], ids, turn)
    return f'<div class="rag-answer">{body}</div>{note}'


def _unverified(sentence: str) -> str:
    return (
        f'<span class="rag-unsupported" title="No source supports this sentence">{sentence}'
        '<span class="rag-badge">unverified</span></span>'
    )


def _linked(text: str, ids: set[int], turn: int) -> str:
    """``text`` made inert, with each ``[n]`` that names a citation turned into a link to its source card."""
    parts: list[str] = []
    pos = 0
    for m in _MARKER.finditer(text):
        n = int(m.group(1))
        if n not in ids:
            continue
        parts.append(inert(text[pos : m.start()]))
        parts.append(
            f'<a class="rag-cite" href="#{cite_anchor(turn, n)}" data-turn="{turn}" data-cite="{n}" '
            f'title="Show source {n}">&#91;{n}&#93;</a>'
        )
        pos = m.end()
    parts.append(inert(text[pos:]))
    return "".join(parts)


def streaming_html(text: str) -> str:
    """A partial answer while it streams in."""
    return f'<div class="rag-answer rag-streaming">{inert(text)}</div>'


def _highlighted(text: str, spans: Sequence[tuple[int, int, str]], offset: int = 0) -> str:
    """``text`` with each ``(start, end, attributes)`` span (offsets relative to ``offset``) in a ``<mark>``."""
    out: list[str] = []
    pos = 0
    for start, end, attrs in sorted(spans):
        a, b = max(start - offset, pos), min(end - offset, len(text))
        if a >= b:
            continue
        out.append(inert(text[pos:a]))
        out.append(f'<mark class="rag-quote"{attrs}>{inert(text[a:b])}</mark>')
        pos = b
    out.append(inert(text[pos:]))
    return "".join(out)


def _context(texts: SourceTexts, citation: Mapping[str, Any]) -> str:
    source, start, end = citation["source"], int(citation["start"]), int(citation["end"])
    para = texts.paragraph(source, start, end)
    lo, hi = max(para.start, start - CONTEXT_CHARS), min(para.end, end + CONTEXT_CHARS)
    body = _highlighted(texts.text(source)[lo:hi], [(start, end, "")], offset=lo)
    return ("… " if lo > para.start else "") + body + (" …" if hi < para.end else "")


def _page(citation: Mapping[str, Any]) -> str:
    page = citation.get("page")
    return f", p. {int(page)}" if isinstance(page, int) and page > 0 else ""


def _cards(answer: Mapping[str, Any], turn: int, texts: SourceTexts, open_: bool) -> str:
    cards = []
    for c in answer["citations"]:
        n = int(c["id"])
        cards.append(
            f'<details class="rag-source" id="{cite_anchor(turn, n)}" data-turn="{turn}" data-cite="{n}"'
            f'{" open" if open_ else ""}><summary><span class="rag-num">&#91;{n}&#93;</span> '
            f"{inert(c['source'])}{_page(c)}, characters {int(c['start'])}–{int(c['end'])}</summary>"
            f'<p class="rag-context">{_context(texts, c)}</p></details>'
        )
    return "".join(cards)


def sources_html(answers: Sequence[Mapping[str, Any]], texts: SourceTexts) -> str:
    """The sources panel: the latest answer's citations in their paragraphs (open), earlier ones folded."""
    if not answers:
        return f'<div class="rag-sources rag-empty">{EMPTY_SOURCES}</div>'
    sections = []
    for turn in range(len(answers) - 1, -1, -1):
        answer = answers[turn]
        latest = turn == len(answers) - 1
        if answer["abstained"]:
            body = '<p class="rag-none">No sources: the document does not answer this question.</p>'
        else:
            body = _cards(answer, turn, texts, open_=latest)
        title = f'<span class="rag-asked">{inert(answer["question"])}</span>'
        if latest:
            sections.append(f'<section class="rag-turn rag-latest" data-turn="{turn}">{title}{body}</section>')
        else:
            sections.append(f'<details class="rag-turn" data-turn="{turn}"><summary>{title}</summary>{body}</details>')
    return f'<div class="rag-sources">{"".join(sections)}</div>'


def document_html(texts: SourceTexts, source: str, answer: Mapping[str, Any] | None, pages: Sequence[int] = ()) -> str:
    """The whole of ``source``, or for a paged document (``pages``: where each starts) the page the latest
    answer first cites, with the spans it cites highlighted and numbered."""
    text = texts.text(source)
    if not text:
        return '<div class="rag-document rag-empty">No document selected.</div>'
    cited = [c for c in (answer or {}).get("citations", []) if c["source"] == source]
    lo, hi, heading = 0, len(text), ""
    if pages and cited:
        n = page_at(pages, int(cited[0]["start"])) or 1
        lo, hi = pages[n - 1], pages[n] if n < len(pages) else len(text)
        heading = f'<p class="rag-page">Page {n} of {len(pages)}</p>'
        cited = [c for c in cited if lo <= int(c["start"]) < hi]
    spans = []
    links = []
    for c in cited:
        n = int(c["id"])
        spans.append((int(c["start"]), min(int(c["end"]), hi), f' id="rag-doc-{n}" data-cite="{n}" title="Source {n}"'))
        links.append(f'<a class="rag-cite" href="#rag-doc-{n}">&#91;{n}&#93;</a>')
    legend = f'<p class="rag-legend">The latest answer cites: {" ".join(links)}</p>' if links else ""
    body = _highlighted(text[lo:hi], spans, offset=lo)
    return f'<div class="rag-document">{heading}{legend}<div class="rag-doc-text">{body}</div></div>'


def documents_html(records: Sequence[Any]) -> str:
    """The collection's documents as a table: name, type, pages, chunks, when indexed."""
    if not records:
        return '<div class="rag-documents rag-empty">No document records (indexed before they existed).</div>'
    rows = "".join(
        f"<tr><td>{inert(r.name)}</td><td>{inert(r.kind)}</td><td>{r.page_count or '–'}</td>"
        f"<td>{r.chunks}</td><td>{inert(r.indexed_at or '–')}</td></tr>"
        for r in records
    )
    head = "<tr><th>document</th><th>type</th><th>pages</th><th>chunks</th><th>indexed at</th></tr>"
    return f'<table class="rag-documents">{head}{rows}</table>'
