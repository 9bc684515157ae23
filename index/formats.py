"""Text out of every supported file type, through maintained libraries: plain text and Markdown as they are,
HTML through BeautifulSoup (the main text only), PDF through pypdf (page by page), Word through python-docx.

Each extractor returns :class:`Extracted`: the text that citation offsets will point into, where each page
starts (PDF), and the spans that are page furniture or a reference list, which are kept in the text (so a page
reads as it was) but never quoted as an answer. Nothing here is about any one document: furniture is a line
repeated at the top or bottom of most pages, a reference list is the part after a references heading, or a
run of lines that read like bibliography entries.
"""

from __future__ import annotations

import logging
import math
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.errors import DocumentError

#: File types and what reads them.
TEXT_SUFFIXES = (".txt", ".md", ".markdown")
HTML_SUFFIXES = (".html", ".htm", ".xhtml")
PDF_SUFFIXES = (".pdf",)
DOCX_SUFFIXES = (".docx",)
SUPPORTED_SUFFIXES = (*TEXT_SUFFIXES, *HTML_SUFFIXES, *PDF_SUFFIXES, *DOCX_SUFFIXES)
KINDS = {
    **dict.fromkeys(TEXT_SUFFIXES[:1], "text"),
    **dict.fromkeys(TEXT_SUFFIXES[1:], "markdown"),
    **dict.fromkeys(HTML_SUFFIXES, "html"),
    **dict.fromkeys(PDF_SUFFIXES, "pdf"),
    **dict.fromkeys(DOCX_SUFFIXES, "docx"),
}

Span = tuple[int, int]


@dataclass(frozen=True)
class Extracted:
    """A file's text as loaded, and what is known about its layout."""

    text: str
    kind: str
    #: Where each page starts in ``text`` (page ``n`` starts at ``pages[n - 1]``); empty when not paged.
    pages: tuple[int, ...] = ()
    #: Spans never quoted as an answer: running headers and footers, reference lists.
    furniture: tuple[Span, ...] = field(default=())
    title: str = ""


def kind_of(path: Path) -> str | None:
    """The kind of document ``path`` holds, by its suffix; None when unsupported."""
    return KINDS.get(path.suffix.lower())


def extract(path: Path, data: bytes) -> Extracted:
    """The text of the file at ``path`` whose bytes are ``data``. Raises :class:`DocumentError` with a reason."""
    kind = kind_of(path)
    if kind == "text":
        return Extracted(_decode(path, data), kind)
    if kind == "markdown":
        return Extracted(_markdown(_decode(path, data)), kind)
    if kind == "html":
        return _html(path, data)
    if kind == "pdf":
        return _pdf(path, data)
    if kind == "docx":
        return _docx(path, data)
    kinds = ", ".join(SUPPORTED_SUFFIXES)
    raise DocumentError(f"{path}: unsupported file type {path.suffix or '(none)'!r}; supported: {kinds}")


# -- plain text -------------------------------------------------------------------------------------------
def _looks_binary(data: bytes) -> bool:
    sample = data[:8192]
    if b"\x00" in sample:
        return True
    control = sum(1 for b in sample if b < 32 and b not in (9, 10, 12, 13))
    return bool(sample) and control / len(sample) > 0.05


def _decode(path: Path, data: bytes) -> str:
    if _looks_binary(data):
        raise DocumentError(f"{path}: looks like a binary file, not text")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DocumentError(
            f"{path}: is not valid UTF-8 (byte {exc.start}); convert it first, e.g. iconv -t UTF-8"
        ) from exc
    return text.removeprefix("\ufeff")


_HTML_COMMENT = re.compile(r"<!--.*?(?:-->|$)", re.S)
_INLINE_ELEMENT = re.compile(r"<([a-z][a-z0-9]*)\b([^<>]*)>(.*?)</\1\s*>", re.S | re.I)


def _markdown(text: str) -> str:
    """Markdown as it renders: without its HTML comments and the inline HTML elements that hide their text
    (``<span style="display:none">``, ``<div hidden>``); the rest is kept as written."""
    text = _HTML_COMMENT.sub("", text)

    def visible(match: re.Match[str]) -> str:
        attrs = match.group(2)
        style = re.search(r"""style\s*=\s*(["'])(.*?)\1""", attrs, re.S | re.I)
        flagged = re.search(r"""\bhidden\b(?!\s*=\s*["']?false)|aria-hidden\s*=\s*["']?true""", attrs, re.I)
        if flagged or (style and _hides(_declarations(style.group(2)))):
            return ""
        return match.group(0)

    return _INLINE_ELEMENT.sub(visible, text)


# -- HTML -------------------------------------------------------------------------------------------------
#: Elements that are never a page's main text.
_NOT_TEXT = ("script", "style", "noscript", "template", "iframe", "object", "embed", "svg", "canvas", "head")
_CHROME = ("nav", "header", "footer", "aside", "form", "menu", "dialog", "button", "select")
_BLOCKS = (
    "p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "dt", "dd", "blockquote", "pre", "figcaption", "caption",
    "td", "th", "address",
)  # fmt: skip
#: Elements whose start and end break the text into blocks.
_BLOCKISH = frozenset(
    (*_BLOCKS, "div", "section", "article", "main", "ul", "ol", "dl", "table", "thead", "tbody", "tfoot", "tr",
     "header", "footer", "nav", "aside", "figure", "details", "summary", "hr", "body", "html")
)  # fmt: skip
_COLOURS = {"white": "#ffffff", "black": "#000000", "transparent": "transparent"}
_SIMPLE_SELECTOR = re.compile(r"^([a-z][a-z0-9]*)?((?:[.#][\w-]+)*)$", re.I)


def _declarations(style: str) -> dict[str, str]:
    out = {}
    for part in style.split(";"):
        name, _, value = part.partition(":")
        if value.strip():
            out[name.strip().lower()] = " ".join(value.lower().replace("!important", "").split())
    return out


def _colour(value: str) -> str:
    value = _COLOURS.get(value, value)
    if re.fullmatch(r"#[0-9a-f]{3}", value):
        value = "#" + "".join(c * 2 for c in value[1:])
    if m := re.fullmatch(r"rgba?\((\d+),\s*(\d+),\s*(\d+)(?:,\s*([\d.]+))?\)", value):
        if m.group(4) is not None and float(m.group(4)) == 0:
            return "transparent"
        value = "#" + "".join(f"{int(x):02x}" for x in m.groups()[:3])
    return value


def _px(value: str) -> float | None:
    m = re.match(r"^(-?[\d.]+)(px|em|rem|pt|%|vw|vh)?$", value.split()[0]) if value else None
    return float(m.group(1)) * (16 if m.group(2) in ("em", "rem") else 1) if m else None


def _hides(decls: dict[str, str]) -> bool:
    """Whether CSS ``decls`` keep an element's text from a reader: not displayed, invisible, transparent,
    no size, off the screen, or in the colour of its own background."""
    get = decls.get
    if get("display") == "none" or get("visibility") in ("hidden", "collapse") or get("content-visibility") == "hidden":
        return True
    if _px(get("font-size", "1")) == 0 or _px(get("opacity", "1")) == 0 or "scale(0" in get("transform", ""):
        return True
    colour = _colour(get("color", ""))
    background = _colour(get("background-color", get("background", "")).split(" ")[0]) if colour else ""
    if colour == "transparent" or (colour and colour == background):
        return True
    clipped = get("overflow") == "hidden" or "rect(0" in get("clip", "") or "inset(50%" in get("clip-path", "")
    if clipped and any(_px(get(k, "1")) in (0, 1) for k in ("height", "width", "max-height", "max-width")):
        return True
    far = min((_px(get(k, "0")) or 0 for k in ("left", "top", "text-indent", "margin-left")), default=0)
    return far <= -999


def _hidden_by_rules(soup: Any) -> list[Any]:
    """Elements a page's own style sheets (``<style>``) hide, for simple selectors (tag, .class, #id)."""
    found: list[Any] = []
    for sheet in soup.find_all("style"):
        css = re.sub(r"/\*.*?\*/", "", sheet.get_text(), flags=re.S)
        for selectors, body in re.findall(r"([^{}@]+)\{([^{}]*)\}", css):
            if not _hides(_declarations(body)):
                continue
            for selector in selectors.split(","):
                m = _SIMPLE_SELECTOR.match(selector.strip())
                if not m or not (m.group(1) or m.group(2)):
                    continue
                classes = re.findall(r"\.([\w-]+)", m.group(2))
                ids = re.findall(r"#([\w-]+)", m.group(2))
                attrs: dict[str, object] = {}
                if ids:
                    attrs["id"] = ids[0]
                for tag in soup.find_all(m.group(1) or True, attrs=attrs):
                    if all(c in (tag.get("class") or []) for c in classes):
                        found.append(tag)
    return found


def _hidden(tag: object) -> bool:
    attrs = getattr(tag, "attrs", None) or {}
    if "hidden" in attrs or str(attrs.get("aria-hidden", "")).lower() == "true":
        return True
    return _hides(_declarations(str(attrs.get("style", ""))))


def _blocks(root: Any) -> list[str]:
    """The text of ``root`` as a reader sees its blocks: a block element (a paragraph, a list item, a
    division) starts and ends a block, and text directly inside a container that also holds blocks is a
    block of its own (a chat message whose sender's name is a <div> of its own)."""
    from bs4.element import NavigableString, Tag

    out: list[str] = []
    current: list[str] = []

    def flush() -> None:
        text = " ".join(" ".join(current).split())
        if text:
            out.append(text)
        current.clear()

    def walk(node: Tag) -> None:
        for child in node.children:
            if type(child) is NavigableString:  # not a comment, doctype or CDATA: those subclass it
                current.append(str(child))
            elif isinstance(child, Tag):
                if child.name in _BLOCKISH:
                    flush()
                    walk(child)
                    flush()
                elif child.name == "br":
                    current.append(" ")
                else:
                    walk(child)

    walk(root)
    flush()
    return out


def _html(path: Path, data: bytes) -> Extracted:
    from bs4 import BeautifulSoup
    from bs4.element import Tag

    soup = BeautifulSoup(data, "html.parser")  # decodes by the document's own charset, else guesses
    title = " ".join(soup.title.get_text().split()) if soup.title else ""
    hidden = _hidden_by_rules(soup)  # read before the style sheets go with the rest of what is not text
    for tag in soup.find_all(_NOT_TEXT):
        tag.decompose()
    for tag in [*hidden, *(t for t in soup.find_all(True) if _hidden(t))]:
        if not tag.decomposed:
            tag.decompose()
    # The main part: <main>, else the page's one <article>; several articles side by side (reviews, posts,
    # a feed) are all main text, so then the page is read as one without a marked main part.
    articles = [a for a in soup.find_all("article") if not a.find_parent("article")]
    main = soup.find("main") or (articles[0] if len(articles) == 1 else None) or soup.body or soup
    assert isinstance(main, Tag)
    if main.name not in ("main", "article"):  # a page without a marked main part: drop its navigation
        for tag in main.find_all(_CHROME):
            if not tag.decomposed:
                tag.decompose()
    blocks = _blocks(main)
    return Extracted("\n\n".join(blocks), "html", title=title)


# -- PDF --------------------------------------------------------------------------------------------------
_DIGITS = re.compile(r"\d+")
_HYPHEN_BREAK = re.compile(r"(\w)-\n(\w)")
_REFERENCES_HEADING = re.compile(
    r"^\s*(?:\d+\.?\s*)?(references|bibliography|works cited|literature cited|references and notes)\s*:?\s*$",
    re.I | re.M,
)
#: The start of a bibliography entry ("12. ", "[12] ", "Smith, J." or "Smith J, ...") in a line that also has a
#: year, a DOI, "et al." or a volume and page numbers.
_ENTRY = re.compile(r"^\s*(?:\[\d{1,3}\]|\d{1,3}\.\s|[A-Z][\w'’-]+,?\s+(?:[A-Z]{1,3}\b|[A-Z]\.))")
_CITED = re.compile(r"\b(?:19|20)\d{2}[a-z]?\b|\bdoi\b|\bet al\.|\b\d+\s*:\s*\d+[–-]\d+", re.I)


def _biblio(line: str) -> bool:
    return bool(_ENTRY.match(line) and _CITED.search(line))


def _pdf(path: Path, data: bytes) -> Extracted:
    import io

    from pypdf import PdfReader

    logging.getLogger("pypdf").setLevel(logging.ERROR)  # its warnings about damaged files become our one line
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise DocumentError(f"{path}: is a password-protected PDF")
        raw = [page.extract_text() or "" for page in reader.pages]
        info = reader.metadata
        title = str(info.get("/Title") or "").strip() if info else ""
    except DocumentError:
        raise
    except Exception as exc:  # pypdf raises many kinds for a damaged file
        raise DocumentError(f"{path}: is not a readable PDF ({type(exc).__name__}: {exc})") from exc
    pages = [_page_lines(t) for t in raw]
    running = _running_lines(pages)
    kept = [[line for n, line in enumerate(lines) if n not in running.get(i, ())] for i, lines in enumerate(pages)]
    starts: list[int] = []
    parts: list[str] = []
    pos = 0
    for lines in kept:
        page = _HYPHEN_BREAK.sub(r"\1\2", "\n".join(line for line in lines if line))
        starts.append(pos)
        parts.append(page)
        pos += len(page) + 1
    text = "\n".join(parts)
    if not text.strip():
        raise DocumentError(f"{path}: has no text layer (a scanned PDF?); run OCR on it first")
    return Extracted(text, "pdf", tuple(starts), tuple(_references(text)), title)


def _page_lines(text: str) -> list[str]:
    """A page's lines, compatibility characters unfolded ("\ufb01" -> "fi") and white space collapsed."""
    text = unicodedata.normalize("NFKC", text.replace("\x00", ""))
    return [" ".join(line.split()) for line in text.splitlines()]


def _running_lines(pages: list[list[str]], edge: int = 3) -> dict[int, set[int]]:
    """Per page, the indices of the lines within ``edge`` non-empty lines of its top or bottom
    whose text, digits ignored (page numbers), recurs at the edge of at least three pages, or of two when
    the document has five pages or fewer, and on at least 30% of them: running headers and footers. Bare
    page numbers too."""
    if len(pages) < 2:
        return {}

    def edges(lines: list[str]) -> list[int]:
        filled = [n for n, line in enumerate(lines) if line]
        k = min(edge, len(filled) // 3)  # on a short page, only its first and last lines can be furniture
        return sorted({*filled[: max(k, 1)], *filled[-max(k, 1) :]}) if filled else []

    def key(line: str) -> str:
        return _DIGITS.sub("#", line)

    counts: Counter[str] = Counter()
    for lines in pages:
        counts.update({key(lines[n]) for n in edges(lines)})
    least = max(2 if len(pages) <= 5 else 3, math.ceil(0.3 * len(pages)))
    common = {k for k, c in counts.items() if (c >= least and len(k) <= 100) or k == "#"}
    out: dict[int, set[int]] = {}
    for i, lines in enumerate(pages):
        for n in edges(lines):
            if key(lines[n]) in common:
                out.setdefault(i, set()).add(n)
    return out


def _lines(text: str) -> list[tuple[int, int, str]]:
    """``(start, end, line)`` for every line of ``text``."""
    out, pos = [], 0
    for line in text.split("\n"):
        out.append((pos, pos + len(line), line))
        pos += len(line) + 1
    return out


def _references(text: str) -> list[Span]:
    """The reference list, to be kept but never quoted: from a references heading to the end when entries
    follow it, and any run of five or more bibliography entries (continuation lines between them allowed)."""
    lines = _lines(text)
    spans: list[Span] = []
    for m in _REFERENCES_HEADING.finditer(text):
        after = [t for a, _, t in lines if a > m.start() and t.strip()][:10]
        if after and sum(map(_biblio, after)) >= 3:
            spans.append((m.start(), len(text)))
            break
    entries = [(a, b) for a, b, t in lines if _biblio(t)]
    run: list[Span] = []
    for a, b in entries:
        if run and a - run[-1][1] > 400:  # more than a few continuation lines apart: a new run
            if len(run) >= 5:
                spans.append((run[0][0], run[-1][1]))
            run = []
        run.append((a, b))
    if len(run) >= 5:
        spans.append((run[0][0], _paragraph_end(text, run[-1][1])))
    return _merge(spans)


def _paragraph_end(text: str, at: int) -> int:
    """The end of the last entry: its continuation lines up to the end of the text, or a blank line."""
    end = text.find("\n\n", at)
    return len(text) if end < 0 else end


def _merge(spans: list[Span]) -> list[Span]:
    out: list[Span] = []
    for a, b in sorted(spans):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


# -- Word -------------------------------------------------------------------------------------------------
def _docx(path: Path, data: bytes) -> Extracted:
    import io
    import zipfile

    from docx import Document

    try:
        doc = Document(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise DocumentError(f"{path}: is not a readable Word document ({type(exc).__name__}: {exc})") from exc
    blocks: list[str] = []
    body = doc.element.body
    for child in body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            text = " ".join("".join(t.text or "" for t in child.iter() if t.tag.endswith("}t")).split())
            if text:
                blocks.append(text)
        elif tag == "tbl":
            for row in child.iter():
                if row.tag.endswith("}tr"):
                    cells = []
                    for cell in row.iter():
                        if cell.tag.endswith("}tc"):
                            words = "".join(t.text or "" for t in cell.iter() if t.tag.endswith("}t"))
                            cells.append(" ".join(words.split()))
                    line = " | ".join(c for c in cells if c)
                    if line:
                        blocks.append(line)
    title = (doc.core_properties.title or "").strip()
    return Extracted("\n\n".join(blocks), "docx", title=title)
