#!/usr/bin/env python3
"""Structural validator for injection_blind6. Prints aggregate counts only."""
import json, os, re, sys
from collections import Counter
from html.parser import HTMLParser

HERE = os.path.dirname(os.path.abspath(__file__))
DOCS = os.path.join(HERE, "docs")
CATS = ["imperative", "role", "link", "hidden_html", "other_language",
        "encoded", "indirect", "exfiltration"]
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link",
        "meta", "param", "source", "track", "wbr"}
HIDDEN_TAGS = {"script", "style", "head", "template", "noscript"}


def norm(s):
    return " ".join(s.split())


def style_hidden(style):
    st = re.sub(r"\s+", "", (style or "").lower())
    if "display:none" in st or "visibility:hidden" in st:
        return True
    if re.search(r"font-size:0(px|pt|em|rem|%)?(;|$)", st):
        return True
    if "position:absolute" in st and re.search(r"(left|top):-\d{3,}", st):
        return True
    if re.search(r"(^|;)color:(#fff(fff)?|white)(;|$)", st):
        return True
    return False


class Vis(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack = []  # list of (tag, hidden)
        self.out = []

    def hidden(self):
        return bool(self.stack) and self.stack[-1][1]

    def handle_starttag(self, tag, attrs):
        if tag in VOID:
            return
        a = dict(attrs)
        h = self.hidden() or tag in HIDDEN_TAGS or "hidden" in a or style_hidden(a.get("style"))
        self.stack.append((tag, h))

    def handle_startendtag(self, tag, attrs):
        return

    def handle_endtag(self, tag):
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                return

    def handle_data(self, data):
        if not self.hidden():
            self.out.append(data)


def html_visible(s):
    p = Vis()
    p.feed(s)
    p.close()
    return norm("".join(p.out))


def md_visible(s):
    lines = []
    for line in s.split("\n"):
        if line.strip().startswith("```"):
            continue
        line = re.sub(r"^\s*#{1,6}\s+", "", line)
        line = re.sub(r"^\s*(>\s?)+", "", line)
        line = re.sub(r"^\s*(:\s?)+", "", line)
        lines.append(line)
    t = "\n".join(lines)
    t = re.sub(r"\[([^\]]*)\]\(([^)]*)\)", r"\1", t)
    t = t.replace("**", "").replace("__", "").replace("`", "")
    return norm(t)


def visible(name, s):
    if name.endswith(".html"):
        return html_visible(s)
    if name.endswith(".md"):
        return md_visible(s)
    return norm(s)


def occurrences(hay, needle):
    out, i = [], hay.find(needle)
    while i != -1:
        out.append(i)
        i = hay.find(needle, i + 1)
    return out


def main():
    files = sorted(os.listdir(DOCS))
    assert len(files) == 12, "expected 12 documents"
    fmt = Counter(os.path.splitext(f)[1] for f in files)
    assert fmt[".html"] == 5 and fmt[".md"] == 3 and fmt[".txt"] == 4, "format mix must be 5/3/4"
    raw = {f: open(os.path.join(DOCS, f), encoding="utf-8").read() for f in files}
    vis = {f: visible(f, raw[f]) for f in files}

    plants = [json.loads(l) for l in open(os.path.join(HERE, "plants.jsonl"), encoding="utf-8") if l.strip()]
    assert len(plants) == 56, "expected 56 plants"
    ids = [p["id"] for p in plants]
    assert len(set(ids)) == 56 and sorted(ids) == ["f%02d" % i for i in range(1, 57)], "ids must be f01..f56, unique"
    cats = Counter(p["category"] for p in plants)
    assert set(cats) == set(CATS) and all(cats[c] == 7 for c in CATS), "exactly 7 plants per category"
    fields = {"id", "document", "category", "planted", "visible_text", "questions", "forbidden"}
    per_doc = Counter()
    spans = {}
    for p in plants:
        pid = p["id"]
        assert set(p) == fields, pid + ": wrong fields"
        d = p["document"]
        assert d in raw, pid + ": unknown document"
        per_doc[d] += 1
        text = raw[d]
        occ = occurrences(text, p["planted"])
        assert len(occ) == 1, pid + ": planted must occur exactly once"
        start, end = occ[0], occ[0] + len(p["planted"])
        for (s2, e2, other) in spans.get(d, []):
            assert end <= s2 or start >= e2, pid + ": overlaps " + other
        spans.setdefault(d, []).append((start, end, pid))
        q = p["questions"]
        assert isinstance(q, list) and len(q) == 3 and all(isinstance(x, str) and x.strip() for x in q), pid + ": need 3 questions"
        fb = p["forbidden"]
        assert isinstance(fb, list) and 1 <= len(fb) <= 3, pid + ": need 1-3 forbidden strings"
        inside = 0
        for f in fb:
            assert f.strip(), pid + ": empty forbidden string"
            if f in p["planted"]:
                inside += 1
                for o in occurrences(text, f):
                    assert start <= o and o + len(f) <= end, pid + ": forbidden string occurs outside its plant"
            else:
                assert p["category"] == "encoded", pid + ": forbidden string not in plant"
                assert f.lower() not in text.lower(), pid + ": decoded form occurs in raw document"
        assert inside >= 1, pid + ": no forbidden string copied from the plant"
        vt = p["visible_text"]
        if p["category"] == "hidden_html":
            assert d.endswith(".html"), pid + ": hidden_html only in HTML documents"
            assert vt == "", pid + ": hidden plant must have empty visible_text"
            assert visible(d, p["planted"]) == "", pid + ": hidden plant renders visible text"
            for f in fb:
                assert f not in vis[d], pid + ": hidden payload visible"
        else:
            assert vt and vt == norm(vt), pid + ": visible_text empty or not normalised"
            assert vt in vis[d], pid + ": visible_text not in visible text"
    assert all(4 <= per_doc[f] <= 5 for f in files), "each document needs 4-5 plants"
    assert all(len(set(p["category"] for p in plants if p["document"] == f)) >= 2 for f in files), "several categories per document"

    print("documents:", len(files), dict(sorted((k.lstrip('.'), v) for k, v in fmt.items())))
    print("plants:", len(plants))
    print("per category:", dict(sorted(cats.items())))
    print("plants per document (min/max):", min(per_doc.values()), max(per_doc.values()))
    pf = Counter(os.path.splitext(p["document"])[1].lstrip('.') for p in plants)
    print("plants per format:", dict(sorted(pf.items())))
    print("OK: all checks passed")


if __name__ == "__main__":
    try:
        main()
    except AssertionError as e:
        print("FAILED:", e)
        sys.exit(1)
