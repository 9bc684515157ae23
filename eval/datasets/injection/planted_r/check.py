#!/usr/bin/env python3
"""Validate the injection_blind8 BLIND set.

Prints only counts and OK/FAIL lines -- never any text from the documents
or from plants.jsonl -- so it is safe for developers to run at any time.
Exit status is non-zero if any check fails.
"""
import json
import os
import re
import sys
from collections import Counter

HERE = os.path.dirname(os.path.abspath(__file__))
DOCS = os.path.join(HERE, "docs")
PLANTS = os.path.join(HERE, "plants.jsonl")
CATEGORIES = ["imperative", "role", "link", "hidden_html",
              "other_language", "encoded", "indirect", "exfiltration"]
FORMATS = {"html": 5, "md": 3, "txt": 4}
FIELDS = ["id", "document", "category", "planted", "visible_text",
          "questions", "forbidden"]

failures = 0


def report(ok, label, detail=""):
    global failures
    if not ok:
        failures += 1
    print("%s  %s%s" % ("OK  " if ok else "FAIL", label, (" (" + detail + ")") if detail else ""))


def words(text, ext):
    if ext == "html":
        text = re.sub(r"<[^>]+>", " ", text)
    return len(text.split())


# ---- documents -----------------------------------------------------------
doc_files = sorted(f for f in os.listdir(DOCS)) if os.path.isdir(DOCS) else []
sources = {}
for f in doc_files:
    with open(os.path.join(DOCS, f), encoding="utf-8") as fh:
        sources[f] = fh.read()
fmt = Counter(f.rsplit(".", 1)[-1] for f in doc_files)
print("documents: %d" % len(doc_files))
for ext in FORMATS:
    print("  .%s: %d" % (ext, fmt.get(ext, 0)))
report(len(doc_files) == 12, "12 documents")
report(all(fmt.get(e, 0) == n for e, n in FORMATS.items()) and sum(fmt.values()) == 12,
       "formats 5 html / 3 md / 4 txt")
report(all(re.match(r"^\d\d_[a-z0-9_]+\.(html|md|txt)$", f) for f in doc_files),
       "file names follow NN_slug.ext")
short = [f for f in doc_files if not 500 <= words(sources[f], f.rsplit(".", 1)[-1]) <= 1500]
report(not short, "every document has 500-1500 words", "%d outside range" % len(short))

# ---- plants --------------------------------------------------------------
plants = []
bad_json = 0
if os.path.exists(PLANTS):
    with open(PLANTS, encoding="utf-8") as fh:
        for line in fh:
            if not line.strip():
                continue
            try:
                plants.append(json.loads(line))
            except ValueError:
                bad_json += 1
report(os.path.exists(PLANTS), "plants.jsonl exists")
report(bad_json == 0, "every line of plants.jsonl is valid JSON", "%d bad" % bad_json)
print("plants: %d" % len(plants))
report(len(plants) == 56, "56 plants")

missing = sum(1 for p in plants if any(k not in p for k in FIELDS))
report(missing == 0, "all required fields present", "%d plants missing fields" % missing)

ids = [p.get("id") for p in plants]
report(len(set(ids)) == len(ids), "ids unique")
report(sorted(ids) == ["g%02d" % i for i in range(1, 57)], "ids are exactly g01-g56")

cats = Counter(p.get("category") for p in plants)
for c in CATEGORIES:
    print("  %-15s %d" % (c, cats.get(c, 0)))
report(set(cats) <= set(CATEGORIES), "only known categories")
report(all(cats.get(c, 0) == 7 for c in CATEGORIES), "exactly 7 plants per category")

no_doc = sum(1 for p in plants if p.get("document") not in sources)
report(no_doc == 0, "each plant's document exists", "%d missing" % no_doc)

not_found = sum(1 for p in plants if p.get("document") in sources
                and (not p.get("planted") or p["planted"] not in sources[p["document"]]))
report(not_found == 0, "each planted string occurs in its document source", "%d not found" % not_found)

hidden_bad = sum(1 for p in plants if p.get("category") == "hidden_html"
                 and not str(p.get("document", "")).endswith(".html"))
report(hidden_bad == 0, "hidden_html plants are all in .html documents")

q_bad = sum(1 for p in plants if not (isinstance(p.get("questions"), list) and len(p["questions"]) == 3
                                      and all(isinstance(q, str) and q.strip() for q in p["questions"])))
report(q_bad == 0, "exactly 3 non-empty questions per plant", "%d bad" % q_bad)

f_bad = sum(1 for p in plants if not (isinstance(p.get("forbidden"), list) and 2 <= len(p["forbidden"]) <= 3
                                      and all(isinstance(x, str) and x.strip() for x in p["forbidden"])))
report(f_bad == 0, "2-3 non-empty forbidden strings per plant", "%d bad" % f_bad)

vis_bad = sum(1 for p in plants if not (isinstance(p.get("visible_text"), str) and p["visible_text"].strip()))
report(vis_bad == 0, "visible_text non-empty", "%d bad" % vis_bad)

dec_bad = sum(1 for p in plants if p.get("category") == "encoded"
              and not (isinstance(p.get("decoded"), str) and p["decoded"].strip()))
report(dec_bad == 0, "every encoded plant has a decoded meaning", "%d bad" % dec_bad)

# A forbidden string must not occur in the legitimate text of its document
# (the document with all of its planted spans removed), otherwise a faithful
# quoting answer could contain it.
leaks = 0
for p in plants:
    doc = p.get("document")
    if doc not in sources:
        continue
    clean = sources[doc]
    for q in plants:
        if q.get("document") == doc and q.get("planted"):
            clean = clean.replace(q["planted"], " ")
    for x in p.get("forbidden", []) or []:
        if isinstance(x, str) and x.lower() in clean.lower():
            leaks += 1
report(leaks == 0, "forbidden strings absent from the non-planted text of each document",
       "%d leaks" % leaks)

in_q = sum(1 for p in plants for x in (p.get("forbidden") or []) for q in (p.get("questions") or [])
           if isinstance(x, str) and isinstance(q, str) and x.lower() in q.lower())
report(in_q == 0, "forbidden strings do not appear in the plant's own questions", "%d hits" % in_q)

per_doc = Counter(p.get("document") for p in plants)
report(all(per_doc.get(f, 0) >= 1 for f in doc_files), "every document carries at least one plant")
print("plants per document: min %d, max %d" % (min(per_doc.values() or [0]), max(per_doc.values() or [0])))

# README table must agree with plants.jsonl (compares counts only).
readme = os.path.join(HERE, "README.md")
if os.path.exists(readme):
    with open(readme, encoding="utf-8") as fh:
        rtext = fh.read()
    mismatch = 0
    for f in doc_files:
        row = next((l for l in rtext.splitlines() if l.startswith("|") and f in l), None)
        if row is None:
            mismatch += 1
            continue
        cells = [c.strip() for c in row.strip().strip("|").split("|")]
        try:
            n = int(cells[3])
        except (IndexError, ValueError):
            mismatch += 1
            continue
        if n != per_doc.get(f, 0):
            mismatch += 1
    report(mismatch == 0, "README contents table matches plant counts per document",
           "%d rows differ" % mismatch)
else:
    report(False, "README.md exists")

print("RESULT: %s (%d failing checks)" % ("PASS" if failures == 0 else "FAIL", failures))
sys.exit(1 if failures else 0)
