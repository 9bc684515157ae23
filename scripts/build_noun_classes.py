"""Build ``rag/data/noun_classes.json`` (which kind of named entity an English noun asks for) and
``rag/data/english_words.txt.gz`` (the words of English, which a typo is not).

"Which state ...?" wants a place, "which senator ...?" a person, "what year ...?" a time. WordNet 3.0 files
every noun sense under a lexicographer file (noun.person, noun.location, noun.group, noun.time,
noun.quantity, ...; see lexnames(5WN)). This script reads Debian's ``wordnet-base`` files
(``/usr/share/wordnet``: ``index.noun`` lists a lemma's senses, most frequent first; ``data.noun`` gives each
sense's lexicographer file) and keeps, for every noun whose most frequent sense or second sense lies in one
of the five files that name kinds of entities, those classes. The answerer maps the classes to spaCy's
OntoNotes entity labels.

    apt-get install wordnet-base
    python scripts/build_noun_classes.py [--wordnet /usr/share/wordnet]

WordNet 3.0 licence: see ``rag/data/WORDNET_LICENSE``.
"""

from __future__ import annotations

import argparse
import gzip
import json
from pathlib import Path

# lexnames(5WN): the lexicographer file numbers of the noun classes that correspond to entity kinds.
LEXFILES = {14: "group", 15: "location", 18: "person", 23: "quantity", 28: "time"}
SENSES = 2
OUT = Path(__file__).resolve().parent.parent / "rag" / "data" / "noun_classes.json"
#: Every single-word lemma of WordNet (and its irregular forms): the words a typo corrector must leave alone.
WORDS_OUT = OUT.parent / "english_words.txt.gz"


def build(wordnet: Path) -> dict[str, list[str]]:
    lexfile: dict[str, int] = {}
    for line in (wordnet / "data.noun").read_text(encoding="utf-8", errors="replace").splitlines():
        if line.startswith("  ") or not line.strip():
            continue  # the licence header
        fields = line.split()
        lexfile[fields[0]] = int(fields[1])
    out: dict[str, list[str]] = {}
    for line in (wordnet / "index.noun").read_text(encoding="utf-8", errors="replace").splitlines():
        if line.startswith("  ") or not line.strip():
            continue
        fields = line.split()
        lemma, synset_cnt, p_cnt = fields[0], int(fields[2]), int(fields[3])
        offsets = fields[6 + p_cnt : 6 + p_cnt + synset_cnt]
        classes = []
        for offset in offsets[:SENSES]:
            name = LEXFILES.get(lexfile.get(offset, -1))
            if name and name not in classes:
                classes.append(name)
        if classes and "_" not in lemma:
            out[lemma] = classes
    return out


def english_words(wordnet: Path) -> list[str]:
    found: set[str] = set()
    for pos in ("noun", "verb", "adj", "adv"):
        for line in (wordnet / f"index.{pos}").read_text(encoding="utf-8", errors="replace").splitlines():
            if line.strip() and not line.startswith("  "):
                found.add(line.split()[0])
        exc = wordnet / f"{pos}.exc"
        if exc.exists():
            for line in exc.read_text(encoding="utf-8", errors="replace").splitlines():
                found.update(line.split())
    return sorted(w for w in found if w.isalpha() and w.islower())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--wordnet", type=Path, default=Path("/usr/share/wordnet"))
    args = parser.parse_args()
    classes = build(args.wordnet)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(classes, sort_keys=True, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"{len(classes):,} nouns -> {OUT}")
    vocabulary = english_words(args.wordnet)
    with gzip.GzipFile(WORDS_OUT, "wb", mtime=0) as fh:  # mtime 0: the same input gives the same bytes
        fh.write(("\n".join(vocabulary) + "\n").encode("utf-8"))
    print(f"{len(vocabulary):,} words -> {WORDS_OUT}")


if __name__ == "__main__":
    main()
