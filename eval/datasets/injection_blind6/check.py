#!/usr/bin/env python3
"""Structural check for the injection_blind6 BLIND evaluation set.

Standard library only. Prints ONLY aggregate counts, never any plant text,
question or payload, so running it does not unblind the set.
Exit status 0 = all checks passed, 1 = at least one failed.
"""
import html.parser
import json
import os
import re
import sys
from collections import Counter

HERE = os.path.dirname(os.path.abspath(__file__))
DOCS = os.path.join(HERE, "docs")
PLANTS = os.path.join(HERE, "plants.jsonl")

CATEGORIES = ["imperative", "role", "link", "hidden_html", "other_language",
              "encoded", "indirect", "exfiltration"]
PER_CATEGORY = 7
N_PLANTS = 56
N_DOCS = 12
FORMATS = {".html": 5, ".md": 3, ".txt": 4}
FIELDS = {"id", "document", "category", "planted", "visible_text",
          "questions", "forbidden"}
# Documents written from scratch (the other five are built from base documents).
SCRATCH = {
    "property_listing_anchor_wharf.html",
    "rail_delay_repay_faq.html",
    "civic_ai_forum_programme.html",
    "hollins_park_newsletter.md",
    "home_insurance_policy_wording.txt",
    "planning_notice_mill_lane.txt",
    "tenancy_agreement_flat2.txt",
}
SCRATCH_WORDS = (700, 1500)


def norm(s):
    return " ".join(s.split())


# ---------------------------------------------------------------- HTML ----
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link",
        "meta", "source", "track", "wbr", "param"}
INVISIBLE_TAGS = {"script", "style", "head", "template", "noscript"}
INLINE = {"a", "abbr", "b", "bdi", "bdo", "cite", "code", "data", "dfn", "em",
          "i", "kbd", "mark", "q", "s", "samp", "small", "span", "strong",
          "sub", "sup", "time", "u", "var", "label"}
HIDDEN_STYLE = [
    re.compile(r"display:none"),
    re.compile(r"visibility:hidden"),
    re.compile(r"font-size:0(\.0+)?(px|pt|em|rem|%)?(;|$|!)"),
    re.compile(r"(^|;)(left|top|right|text-indent|margin-left):-\d{3,}"),
    re.compile(r"(^|;)color:(#fff|#ffffff|white|rgb\(255,255,255\))(;|$|!)"),
    re.compile(r"(^|;)opacity:0(\.0+)?(;|$|!)"),
]


def style_hidden(attrs):
    d = {k.lower(): (v or "") for k, v in attrs}
    if "hidden" in d:
        return True
    style = re.sub(r"\s+", "", d.get("style", "").lower())
    return any(p.search(style) for p in HIDDEN_STYLE)


class VisibleText(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack = []  # (tag, hidden)
        self.out = []

    def _hidden(self):
        return bool(self.stack) and self.stack[-1][1]

    def handle_starttag(self, tag, attrs):
        hidden = self._hidden() or tag in INVISIBLE_TAGS or style_hidden(attrs)
        if tag not in INLINE:
            self.out.append(" ")
        if tag not in VOID:
            self.stack.append((tag, hidden))

    def handle_startendtag(self, tag, attrs):
        if tag not in INLINE:
            self.out.append(" ")

    def handle_endtag(self, tag):
        if tag not in INLINE:
            self.out.append(" ")
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                break

    def handle_data(self, data):
        if not self._hidden():
            self.out.append(data)


def html_visible(raw):
    p = VisibleText()
    p.feed(raw)
    p.close()
    return norm("".join(p.out))


# ------------------------------------------------------------ Markdown ----
def md_visible(raw):
    lines = []
    for line in raw.split("\n"):
        if line.strip().startswith("```") or line.strip() == "---":
            continue
        line = re.sub(r"^\s*(>\s?)+", "", line)
        line = re.sub(r"^#{1,6}\s+", "", line)
        line = line.replace("**", "").replace("`", "").replace("*", "")
        lines.append(line)
    return norm("\n".join(lines))


def visible(name, raw):
    if name.endswith(".html"):
        return html_visible(raw)
    if name.endswith(".md"):
        return md_visible(raw)
    return norm(raw)


# --------------------------------------------------------------- checks ---
failures = Counter()


def check(cond, label):
    if not cond:
        failures[label] += 1


def main():
    names = sorted(os.listdir(DOCS))
    check(len(names) == N_DOCS, "document count")
    fmt = Counter(os.path.splitext(n)[1] for n in names)
    for ext, n in FORMATS.items():
        check(fmt.get(ext, 0) == n, "documents per format")
    check(sum(fmt.values()) == sum(FORMATS.values()), "documents per format")

    raw = {n: open(os.path.join(DOCS, n), encoding="utf-8").read() for n in names}
    vis = {n: visible(n, raw[n]) for n in names}
    for n in names:
        check("\u27e6" not in raw[n] and "\u27e7" not in raw[n], "leftover build markers")
    for n in SCRATCH:
        check(n in raw, "scratch document present")
        if n in raw:
            w = len(vis[n].split())
            check(SCRATCH_WORDS[0] <= w <= SCRATCH_WORDS[1], "scratch document length")

    plants = []
    with open(PLANTS, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                plants.append(json.loads(line))
    check(len(plants) == N_PLANTS, "plant count")
    ids = [p.get("id") for p in plants]
    check(len(set(ids)) == len(ids), "unique ids")
    check(set(ids) == {"f%02d" % i for i in range(1, N_PLANTS + 1)}, "id range f01..f56")
    cats = Counter(p.get("category") for p in plants)
    check(set(cats) == set(CATEGORIES), "category names")
    for c in CATEGORIES:
        check(cats.get(c, 0) == PER_CATEGORY, "plants per category")

    per_doc = Counter()
    cats_per_doc = {}
    spans = {}
    n_forbidden = 0
    n_decoded = 0
    for p in plants:
        check(set(p) == FIELDS, "plant fields")
        doc = p.get("document")
        if doc not in raw:
            check(False, "plant document exists")
            continue
        per_doc[doc] += 1
        cats_per_doc.setdefault(doc, set()).add(p["category"])
        text = raw[doc]
        planted = p["planted"]
        check(isinstance(planted, str) and planted != "", "planted non-empty")
        count = text.count(planted)
        check(count == 1, "planted occurs exactly once")
        start = text.find(planted)
        end = start + len(planted)
        spans.setdefault(doc, []).append((start, end))

        if p["category"] == "hidden_html":
            check(doc.endswith(".html"), "hidden_html only in HTML")
            check(p["visible_text"] == "", "hidden_html visible_text empty")
            check(html_visible(planted) == "", "hidden plant renders no visible text")
        else:
            vt = p["visible_text"]
            check(isinstance(vt, str) and vt != "", "visible_text non-empty")
            check(vt == norm(vt), "visible_text whitespace-normalised")
            check(vt == visible(doc, planted), "visible_text matches rendered plant")
            check(vt in vis[doc], "visible_text found in document visible text")

        q = p["questions"]
        check(isinstance(q, list) and len(q) == 3 and all(isinstance(x, str) and x.strip() for x in q),
              "exactly 3 questions")

        fb = p["forbidden"]
        check(isinstance(fb, list) and 1 <= len(fb) <= 3, "1-3 forbidden strings")
        in_plant = 0
        for s in fb:
            n_forbidden += 1
            check(isinstance(s, str) and s.strip() != "", "forbidden non-empty")
            if s in planted:
                in_plant += 1
                # every occurrence in the raw document lies inside the plant
                i = text.find(s)
                while i != -1:
                    check(start <= i and i + len(s) <= end, "forbidden only inside its plant")
                    i = text.find(s, i + 1)
            else:
                # only allowed for decoded forms of encoded plants
                check(p["category"] == "encoded", "forbidden string copied from plant")
                n_decoded += 1
                check(s.lower() not in text.lower(), "decoded form absent from raw document")
                check(s.lower() not in vis[doc].lower(), "decoded form absent from visible text")
            if p["category"] == "hidden_html":
                check(s.lower() not in vis[doc].lower(), "hidden payload absent from visible text")
        check(in_plant >= 1, "at least one forbidden string inside the plant")

    for doc in raw:
        check(4 <= per_doc.get(doc, 0) <= 5, "4-5 plants per document")
        check(len(cats_per_doc.get(doc, ())) >= 3, "several categories per document")
        s = sorted(spans.get(doc, []))
        for a, b in zip(s, s[1:]):
            check(a[1] <= b[0], "plants do not overlap")

    print("documents: %d (%s)" % (len(names), ", ".join("%s=%d" % (e, fmt[e]) for e in sorted(fmt))))
    print("plants: %d" % len(plants))
    print("per category: " + ", ".join("%s=%d" % (c, cats.get(c, 0)) for c in CATEGORIES))
    fcount = Counter()
    for p in plants:
        fcount[os.path.splitext(p.get("document", ""))[1]] += 1
    print("plants per format: " + ", ".join("%s=%d" % (e, fcount[e]) for e in sorted(fcount)))
    print("plants per document: min=%d max=%d" % (min(per_doc.values()), max(per_doc.values())))
    print("forbidden strings: %d (decoded forms: %d)" % (n_forbidden, n_decoded))
    if failures:
        print("FAILED checks: %d" % sum(failures.values()))
        for label, n in sorted(failures.items()):
            print("  %s: %d" % (label, n))
        return 1
    print("OK: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
