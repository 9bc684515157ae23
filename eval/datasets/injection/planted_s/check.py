#!/usr/bin/env python3
"""Structural check for the injection_blind9 evaluation set.

Prints ONLY aggregate counts; it never prints document or plant text.
Exit status 0 if every check passes, 1 otherwise.
"""
import html
import json
import os
import re
import sys
from collections import Counter, defaultdict
from html.parser import HTMLParser

HERE = os.path.dirname(os.path.abspath(__file__))
DOCS = os.path.join(HERE, "docs")
PLANTS = os.path.join(HERE, "plants.jsonl")

CATEGORIES = ["imperative", "role", "link", "hidden_html", "other_language",
              "encoded", "indirect", "exfiltration"]
FIELDS = {"id", "document", "category", "planted", "visible_text",
          "questions", "forbidden"}
EXPECTED_FORMATS = {"html": 5, "md": 3, "txt": 4}
PER_CATEGORY = 7
N_PLANTS = 56
MIN_WORDS, MAX_WORDS = 400, 1500


def norm(s):
    return " ".join(s.split())


# ---------------------------------------------------------------- HTML
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link",
        "meta", "param", "source", "track", "wbr"}
BLOCK = {"address", "article", "aside", "blockquote", "br", "caption", "dd",
         "div", "dl", "dt", "figcaption", "figure", "footer", "form", "h1",
         "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main", "nav",
         "ol", "p", "pre", "section", "table", "tbody", "td", "tfoot", "th",
         "thead", "tr", "ul"}
NEVER_RENDERED = {"head", "script", "style", "template", "noscript", "title"}
WHITE = r"(?:#fff(?:fff)?|white|rgb\(\s*255\s*,\s*255\s*,\s*255\s*\))"
HIDDEN_STYLE = [
    r"display\s*:\s*none",
    r"visibility\s*:\s*hidden",
    r"font-size\s*:\s*0(?:\.0+)?(?:px|pt|em|rem|%)?\s*(?:;|$|!)",
    r"opacity\s*:\s*0(?:\.0+)?\s*(?:;|$|!)",
    r"(?:left|top|right|text-indent)\s*:\s*-\d{3,}(?:px|em)",
]


def style_hides(style):
    st = style.lower()
    for pat in HIDDEN_STYLE:
        if re.search(pat, st):
            return True
    # white-on-white text
    if re.search(r"(?:^|;)\s*color\s*:\s*" + WHITE, st) and \
            re.search(r"background(?:-color)?\s*:\s*" + WHITE, st):
        return True
    return False


class VisibleText(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack = []  # (tag, hides)
        self.hidden_depth = 0
        self.parts = []

    def _hides(self, tag, attrs):
        if tag in NEVER_RENDERED:
            return True
        d = {k.lower(): (v or "") for k, v in attrs}
        if "hidden" in d:
            return True
        if style_hides(d.get("style", "")):
            return True
        return False

    def handle_starttag(self, tag, attrs):
        tag = tag.lower()
        if tag in BLOCK:
            self.parts.append(" ")
        if tag in VOID:
            return
        h = self._hides(tag, attrs)
        self.stack.append((tag, h))
        if h:
            self.hidden_depth += 1

    def handle_startendtag(self, tag, attrs):
        if tag.lower() in BLOCK:
            self.parts.append(" ")

    def handle_endtag(self, tag):
        tag = tag.lower()
        if tag in BLOCK:
            self.parts.append(" ")
        if tag in VOID:
            return
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                for _, h in self.stack[i:]:
                    if h:
                        self.hidden_depth -= 1
                del self.stack[i:]
                break

    def handle_data(self, data):
        if self.hidden_depth == 0:
            self.parts.append(data)


def html_visible(raw):
    p = VisibleText()
    p.feed(raw)
    p.close()
    return norm("".join(p.parts))


# ------------------------------------------------------------ Markdown
def _md_inline(seg):
    seg = re.sub(r"!\[([^\]]*)\]\([^)]*\)", r"\1", seg)
    seg = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", seg)
    seg = re.sub(r"<(https?://[^>\s]+)>", r"\1", seg)
    seg = seg.replace("**", "").replace("__", "")
    seg = re.sub(r"(?<!\w)\*(?=\S)(.+?)(?<=\S)\*(?!\w)", r"\1", seg)
    seg = re.sub(r"(?<!\w)_(?=\S)(.+?)(?<=\S)_(?!\w)", r"\1", seg)
    return seg


def md_visible(raw):
    """Rendered text of Markdown: fences, heading/quote/list markers,
    table pipes, emphasis and link/image syntax removed; code kept."""
    out = []
    in_code = False
    for line in raw.split("\n"):
        if line.strip().startswith("```"):
            in_code = not in_code
            continue
        if in_code:
            out.append(line)
            continue
        if re.match(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$", line):
            continue
        line = re.sub(r"^\s{0,3}#{1,6}\s+", "", line)
        line = re.sub(r"^\s*(?:>\s?)+", "", line)
        line = re.sub(r"^\s*(?:[-*+]|\d+\.)\s+", "", line)
        if line.strip().startswith("|"):
            line = line.replace("|", " ")
        # inline code spans are kept verbatim (backticks dropped)
        pieces = re.split(r"(`[^`]*`)", line)
        line = "".join(pc[1:-1] if pc.startswith("`") and pc.endswith("`")
                       and len(pc) >= 2 else _md_inline(pc) for pc in pieces)
        out.append(line)
    return norm("\n".join(out))


def visible(raw, ext):
    if ext == "html":
        return html_visible(raw)
    if ext == "md":
        return md_visible(raw)
    return norm(raw)


def ext_of(name):
    return name.rsplit(".", 1)[-1].lower()


# ---------------------------------------------------------------- main
def main():
    failures = Counter()

    def check(cond, label):
        if not cond:
            failures[label] += 1
        return cond

    names = sorted(n for n in os.listdir(DOCS)
                   if os.path.isfile(os.path.join(DOCS, n)))
    fmt = Counter(ext_of(n) for n in names)
    check(len(names) == 12, "document count != 12")
    for e, n in EXPECTED_FORMATS.items():
        check(fmt.get(e, 0) == n, "format split wrong")
    check(set(fmt) <= set(EXPECTED_FORMATS), "unexpected document format")

    raw = {}
    vis = {}
    words = {}
    for n in names:
        with open(os.path.join(DOCS, n), encoding="utf-8") as f:
            raw[n] = f.read()
        vis[n] = visible(raw[n], ext_of(n))
        words[n] = len(vis[n].split())
        check(MIN_WORDS <= words[n] <= MAX_WORDS, "document word count out of range")

    plants = []
    with open(PLANTS, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                plants.append(json.loads(line))

    check(len(plants) == N_PLANTS, "plant count != 56")
    ids = [p.get("id") for p in plants]
    check(len(set(ids)) == len(ids), "duplicate ids")
    check(set(ids) == {"p%02d" % i for i in range(1, N_PLANTS + 1)},
          "ids not p01..p56")
    cats = Counter(p.get("category") for p in plants)
    for c in CATEGORIES:
        check(cats.get(c, 0) == PER_CATEGORY, "category count != 7")
    check(set(cats) <= set(CATEGORIES), "unknown category")

    per_doc = defaultdict(list)
    n_forbidden = 0
    n_decoded = 0
    for p in plants:
        check(set(p) == FIELDS, "wrong field set")
        doc = p.get("document")
        if not check(doc in raw, "document missing"):
            continue
        per_doc[doc].append(p)
        text = raw[doc]
        ext = ext_of(doc)
        planted = p["planted"]
        check(isinstance(planted, str) and planted.strip() != "", "empty planted")
        cnt = text.count(planted)
        if not check(cnt == 1, "planted not exactly once"):
            continue
        start = text.index(planted)
        end = start + len(planted)

        # questions
        qs = p["questions"]
        check(isinstance(qs, list) and len(qs) == 3 and
              all(isinstance(q, str) and q.strip() for q in qs) and
              len(set(qs)) == 3, "questions malformed")

        # forbidden strings
        fb = p["forbidden"]
        check(isinstance(fb, list) and 1 <= len(fb) <= 3 and
              all(isinstance(x, str) and x.strip() for x in fb),
              "forbidden malformed")
        for s in fb:
            n_forbidden += 1
            if s in planted:
                pos = 0
                while True:
                    i = text.find(s, pos)
                    if i < 0:
                        break
                    check(start <= i and i + len(s) <= end,
                          "forbidden string outside its plant")
                    pos = i + 1
            else:
                # decoded form of an encoded payload: must occur nowhere
                n_decoded += 1
                check(p["category"] == "encoded",
                      "forbidden string not in plant (non-encoded)")
                check(s.lower() not in text.lower(),
                      "decoded form occurs in raw document")
                check(norm(s).lower() not in vis[doc].lower(),
                      "decoded form occurs in visible text")

        # visible text
        vt = p["visible_text"]
        if p["category"] == "hidden_html":
            check(ext == "html", "hidden_html plant outside HTML")
            check(vt == "", "hidden_html visible_text not empty")
            removed = text[:start] + text[end:]
            check(visible(removed, ext) == vis[doc],
                  "hidden plant changes visible text")
            for s in fb:
                check(norm(s) not in vis[doc], "hidden payload visible")
        else:
            check(isinstance(vt, str) and vt.strip() != "",
                  "visible_text empty")
            check(vt == norm(vt), "visible_text not whitespace-normalised")
            check(vt in vis[doc], "visible_text not in visible document text")
            check(vt == visible(planted, ext),
                  "visible_text differs from rendering of planted")

    for n in names:
        ps = per_doc.get(n, [])
        check(4 <= len(ps) <= 5, "plants per document not 4-5")
        check(len({p["category"] for p in ps}) >= 3,
              "fewer than 3 categories in a document")

    # ---- aggregate report (counts only) ----
    print("documents: %d (html %d, md %d, txt %d)" % (
        len(names), fmt.get("html", 0), fmt.get("md", 0), fmt.get("txt", 0)))
    print("document words: min %d, max %d" % (min(words.values()),
                                              max(words.values())))
    print("plants: %d" % len(plants))
    for c in CATEGORIES:
        print("  %-15s %d" % (c, cats.get(c, 0)))
    dist = Counter(len(per_doc.get(n, [])) for n in names)
    print("plants per document: " + ", ".join(
        "%d docs with %d" % (dist[k], k) for k in sorted(dist)))
    print("forbidden strings: %d (decoded forms: %d)" % (n_forbidden, n_decoded))
    if failures:
        print("FAILED: %d check(s) failed" % sum(failures.values()))
        for label, k in sorted(failures.items()):
            print("  %s: %d" % (label, k))
        return 1
    print("ALL CHECKS PASSED")
    return 0


if __name__ == "__main__":
    sys.exit(main())
