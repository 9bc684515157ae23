#!/usr/bin/env python3
"""Validation script for the injection_blind5 BLIND evaluation set.

Run from any directory:  python3 check.py
It prints only aggregate results (counts), never plant text, so that running it
does not expose the contents of the blind set.
"""
import base64
import codecs
import collections
import html.parser
import json
import os
import re
import sys
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
DOCS = os.path.join(HERE, "docs")
PLANTS = os.path.join(HERE, "plants.jsonl")

CATEGORIES = ["imperative", "role", "link", "hidden_html", "other_language",
              "encoded", "indirect", "exfiltration"]
FIELDS = {"id", "document", "category", "planted", "visible_text", "questions", "forbidden"}
EXPECTED_FORMATS = {"html": 5, "md": 3, "txt": 4}

# Scheme used by each encoded plant, so that decoded forbidden forms can be verified.
ENCODED_SCHEMES = {"e10": "base64", "e18": "rot13", "e25": "hex", "e28": "percent",
                   "e36": "reversed", "e46": "leet", "e54": "zero_width"}


def norm(s):
    return re.sub(r"\s+", " ", s).strip()


# ---------------------------------------------------------------- visible text
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
        "source", "track", "wbr"}
NEVER_VISIBLE = {"head", "script", "style", "template", "noscript", "title"}
BLOCK = {"p", "div", "li", "ul", "ol", "dl", "dt", "dd", "h1", "h2", "h3", "h4", "h5", "h6",
         "section", "article", "aside", "header", "footer", "nav", "main", "figure",
         "figcaption", "pre", "table", "tr", "td", "th", "br", "blockquote", "form"}
WHITE = r"(?:#fff(?:fff)?|white|rgb\(\s*255\s*,\s*255\s*,\s*255\s*\))"


def _hidden(tag, attrs):
    if tag in NEVER_VISIBLE:
        return True
    a = {k.lower(): (v or "") for k, v in attrs}
    if "hidden" in a:
        return True
    if a.get("aria-hidden", "").lower() == "true":
        return True
    style = a.get("style", "").lower().replace(" ", "")
    if re.search(r"display:none|visibility:hidden|font-size:0(?![.\d])|opacity:0(?![.\d])", style):
        return True
    if re.search(r"(?:left|top|text-indent):-\d{3,}", style):
        return True
    if re.search(r"(?<![-\w])color:" + WHITE, style) and re.search(r"background(?:-color)?:" + WHITE, style):
        return True
    return False


class _Visible(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack = []
        self.out = []

    def handle_starttag(self, tag, attrs):
        if tag in BLOCK:
            self.out.append(" ")
        if tag in VOID:
            return
        self.stack.append((tag, _hidden(tag, attrs)))

    def handle_startendtag(self, tag, attrs):
        if tag in BLOCK:
            self.out.append(" ")

    def handle_endtag(self, tag):
        if tag in BLOCK:
            self.out.append(" ")
        if tag in VOID:
            return
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                break

    def handle_data(self, data):
        if not any(h for _, h in self.stack):
            self.out.append(data)


def html_visible_text(raw):
    p = _Visible()
    p.feed(raw)
    p.close()
    return norm("".join(p.out))


def md_visible_text(raw):
    lines = []
    for line in raw.split("\n"):
        if line.strip().startswith("```"):
            continue
        line = re.sub(r"^\s*#{1,6}\s+", "", line)
        line = re.sub(r"^\s*>\s?", "", line)
        line = line.replace("**", "").replace("*", "").replace("`", "")
        lines.append(line)
    return norm("\n".join(lines))


def visible_text(raw, fmt):
    if fmt == "html":
        return html_visible_text(raw)
    if fmt == "md":
        return md_visible_text(raw)
    return norm(raw)


# ---------------------------------------------------------------- decoders
def decode(scheme, s):
    if scheme == "base64":
        return base64.b64decode(s).decode("utf-8")
    if scheme == "rot13":
        return codecs.decode(s, "rot13")
    if scheme == "hex":
        return bytes.fromhex(s.replace(" ", "")).decode("utf-8")
    if scheme == "percent":
        return urllib.parse.unquote(s)
    if scheme == "reversed":
        return s[::-1]
    if scheme == "leet":
        return s.translate(str.maketrans("4310", "aeio"))
    if scheme == "zero_width":
        return re.sub("[\u200b\u200c\u200d\u2060\ufeff]", "", s)
    raise ValueError(scheme)


# ---------------------------------------------------------------- checks
def main():
    errors = []

    def err(msg):
        errors.append(msg)

    doc_files = sorted(f for f in os.listdir(DOCS) if not f.startswith("."))
    fmt_of = {f: f.rsplit(".", 1)[-1] for f in doc_files}
    fmt_counts = collections.Counter(fmt_of.values())
    if len(doc_files) != 12:
        err(f"expected 12 documents, found {len(doc_files)}")
    if dict(fmt_counts) != EXPECTED_FORMATS:
        err(f"document formats {dict(fmt_counts)} != {EXPECTED_FORMATS}")

    raws = {}
    for f in doc_files:
        with open(os.path.join(DOCS, f), encoding="utf-8") as fh:
            raws[f] = fh.read()
    vis = {f: visible_text(raws[f], fmt_of[f]) for f in doc_files}
    for f in doc_files:
        if fmt_of[f] == "html":
            low = raws[f].lower()
            for part in ("<head", "<nav", "<main", "<footer", "</html>"):
                if part not in low:
                    err(f"{f}: HTML page lacks {part}")
            if "<article" not in low and "<main" not in low:
                err(f"{f}: HTML page lacks article/main")

    plants = []
    with open(PLANTS, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                plants.append(json.loads(line))
            except json.JSONDecodeError as e:
                err(f"plants.jsonl line {n}: invalid JSON ({e})")

    if len(plants) != 56:
        err(f"expected 56 plants, found {len(plants)}")
    ids = [p.get("id") for p in plants]
    if len(set(ids)) != len(ids):
        err("plant ids are not unique")
    if sorted(ids) != [f"e{i:02d}" for i in range(1, 57)]:
        err("plant ids are not exactly e01..e56")

    cat_counts = collections.Counter(p.get("category") for p in plants)
    for c in CATEGORIES:
        if cat_counts.get(c, 0) != 7:
            err(f"category {c}: {cat_counts.get(c, 0)} plants, expected 7")
    for c in cat_counts:
        if c not in CATEGORIES:
            err(f"unknown category {c}")

    per_doc = collections.defaultdict(list)
    spans = collections.defaultdict(list)
    for p in plants:
        pid = p.get("id")
        if set(p) != FIELDS:
            err(f"{pid}: fields {sorted(p)} != {sorted(FIELDS)}")
            continue
        doc = p["document"]
        if doc not in raws:
            err(f"{pid}: document {doc} not found in docs/")
            continue
        per_doc[doc].append(p)
        raw = raws[doc]
        fmt = fmt_of[doc]
        planted = p["planted"]
        if not planted:
            err(f"{pid}: empty planted text")
            continue
        cnt = raw.count(planted)
        if cnt != 1:
            err(f"{pid}: planted text occurs {cnt} times in {doc}")
            continue
        start = raw.index(planted)
        end = start + len(planted)
        spans[doc].append((start, end, pid))

        if p["category"] == "hidden_html" and fmt != "html":
            err(f"{pid}: hidden_html plant in non-HTML document")

        # questions
        q = p["questions"]
        if not (isinstance(q, list) and len(q) == 3 and all(isinstance(x, str) and x.strip() for x in q)):
            err(f"{pid}: needs exactly 3 non-empty questions")

        # visible text
        vt = p["visible_text"]
        if p["category"] == "hidden_html":
            if vt != "":
                err(f"{pid}: hidden_html plant must have empty visible_text")
        else:
            if not vt.strip():
                err(f"{pid}: visible_text is empty")
            elif norm(vt) not in vis[doc]:
                err(f"{pid}: visible_text not found in visible text of {doc}")

        # forbidden strings
        fb = p["forbidden"]
        if not (isinstance(fb, list) and 1 <= len(fb) <= 3 and all(isinstance(x, str) and x for x in fb)):
            err(f"{pid}: forbidden must list 1-3 non-empty strings")
            continue
        in_plant = [f for f in fb if f in planted]
        if not in_plant:
            err(f"{pid}: no forbidden string is copied from the plant")
        for f in fb:
            if f in planted:
                pos = raw.find(f)
                while pos != -1:
                    if not (start <= pos and pos + len(f) <= end):
                        err(f"{pid}: a forbidden string also occurs outside its plant in {doc}")
                        break
                    pos = raw.find(f, pos + 1)
            else:
                if p["category"] != "encoded":
                    err(f"{pid}: forbidden string not copied from plant (only allowed for decoded forms of encoded plants)")
                    continue
                if f in raw:
                    err(f"{pid}: decoded forbidden form occurs in the raw document")
                scheme = ENCODED_SCHEMES.get(pid)
                if scheme is None:
                    err(f"{pid}: no encoding scheme registered")
                    continue
                ok = False
                for g in in_plant:
                    try:
                        if f.lower() in decode(scheme, g).lower():
                            ok = True
                    except Exception:
                        pass
                if not ok:
                    err(f"{pid}: decoded forbidden form does not decode from the encoded payload")
        if p["category"] == "hidden_html":
            for f in in_plant:
                if f in vis[doc]:
                    err(f"{pid}: hidden plant payload is visible in the rendered text")

    # plants must not overlap each other
    for doc, sp in spans.items():
        sp.sort()
        for (s1, e1, a), (s2, e2, b) in zip(sp, sp[1:]):
            if s2 < e1:
                err(f"{a} and {b} overlap in {doc}")

    # per-document distribution
    for f in doc_files:
        n = len(per_doc.get(f, []))
        if n not in (4, 5):
            err(f"{f}: {n} plants, expected 4 or 5")
        cats = {p["category"] for p in per_doc.get(f, [])}
        if len(cats) < 3:
            err(f"{f}: only {len(cats)} categories; documents should mix several")
        if "{{" in raws[f]:
            err(f"{f}: unreplaced template marker")

    print("documents by format:", dict(sorted(fmt_counts.items())))
    print("plants by category:", {c: cat_counts.get(c, 0) for c in CATEGORIES})
    print("plants per document:", {f: len(per_doc.get(f, [])) for f in doc_files})
    if errors:
        print(f"FAILED: {len(errors)} problem(s)")
        for e in errors:
            print(" -", e)
        sys.exit(1)
    print("OK: all checks passed")


if __name__ == "__main__":
    main()
