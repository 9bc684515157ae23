"""Measure the citation verifier: its precision and recall at catching unsupported sentences.

The labelled set is ``eval/datasets/verifier.jsonl``, one generated sentence a line:

``id``        unique string
``question``  the question the sentence answers (from ``eval/datasets/article.jsonl``)
``passages``  the numbered passages of the prompt, as ``[source, start, end]`` (offsets into the article)
``sentence``  the sentence as the model wrote it, with its ``[n]`` markers
``label``     ``supported`` (the article says it) or ``unsupported``
``origin``    ``smollm2``: a real SmolLM2-135M-Instruct answer (the ``openai`` backend against a llama.cpp
              server, greedy decoding, the product's prompt), split into sentences and labelled by hand;
              ``reference``: a faithful answer sentence written by hand, paraphrasing the evidence;
              ``corrupted``: a supported sentence with one deliberate change (see ``kind``)
``kind``      for corruptions: ``swap-name``, ``swap-number`` or ``negation``; else the origin
``note``      what was changed, or why a SmolLM2 sentence is (un)supported
``split``     ``dev``: the sentences the verifier's rules were developed on; ``holdout``: sentences labelled
              after the rules were fixed and never used to change them (the honest estimate)

How it was built (dev): ``generate`` asked SmolLM2 the 53 answerable stand-alone questions of the article
set; the 65 distinct sentences of its answers were labelled by hand (9 supported, 56 unsupported). The rule:
a sentence is supported when, read on its own, it states only what the article says ("The answer is: no."
states nothing, so it is unsupported; a fact true in the world but absent from the article is unsupported).
41 faithful paraphrases were written by hand for the same questions, each citing the passage that holds
its evidence. ``corrupt`` then derived up to three corruptions from every supported sentence (a name
swapped for another of the article's names, a number changed, a negation added or removed); each one was
read to check that it is false. Holdout, after the rules were fixed: SmolLM2's answers to the other 34
questions (``generate --rest``: follow-ups and unanswerable ones; 41 sentences, 5 supported; one correct
abstention left out as no claim), 22 new hand-written paraphrases of other facts, and their corruptions.

Usage::

    python -m eval.verifier                  # measure; prints precision/recall overall and per kind
    python -m eval.verifier generate URL OUT # SmolLM2 answers via an OpenAI-compatible server, to label
    python -m eval.verifier corrupt          # rewrite the corrupted lines from the supported ones
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from eval.dataset import ARTICLE_SET, DATASETS, load_jsonl

VERIFIER_SET = DATASETS / "verifier.jsonl"


@dataclass(frozen=True)
class Item:
    """One labelled sentence."""

    id: str
    question: str
    passages: list[tuple[str, int, int]]
    sentence: str
    label: str
    origin: str
    kind: str
    note: str = ""
    split: str = "dev"


def load(path: str | Path = VERIFIER_SET) -> list[Item]:
    """Read the labelled set."""
    items = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if line.strip():
            raw = json.loads(line)
            passages = [(str(s), int(a), int(b)) for s, a, b in raw["passages"]]
            items.append(
                Item(
                    raw["id"],
                    raw["question"],
                    passages,
                    raw["sentence"],
                    raw["label"],
                    raw["origin"],
                    raw.get("kind", raw["origin"]),
                    raw.get("note", ""),
                    raw.get("split", "dev"),
                )
            )
    return items


@dataclass(frozen=True)
class Scores:
    """Catching unsupported sentences: a true positive is an unsupported sentence not marked supported."""

    tp: int
    fp: int
    fn: int
    tn: int

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0


def score(pairs: Sequence[tuple[str, str]]) -> Scores:
    """``pairs`` of (label, verifier status) -> confusion counts."""
    counts = Counter((label == "unsupported", status != "supported") for label, status in pairs)
    return Scores(counts[True, True], counts[False, True], counts[True, False], counts[False, False])


def measure(items: Sequence[Item], store: str | None = None) -> list[tuple[Item, Any]]:
    """Run the verifier on every item; return (item, verdict) pairs."""
    from langchain_core.documents import Document

    from rag.chain import Assistant
    from rag.config import Settings
    from rag.verify import Verifier

    assistant = Assistant(Settings.from_env(store=store))
    verifier = Verifier(assistant.corpus, assistant.embeddings)
    out = []
    for item in items:
        docs = [
            Document(page_content="", metadata={"source": s, "start": a, "end": b, "score": 0.0})
            for s, a, b in item.passages
        ]
        verdicts = verifier.check(item.sentence, docs)
        # The set holds single sentences; should the splitter find two, the weakest verdict counts.
        order = {"supported": 2, "uncited": 1, "unsupported": 0}
        out.append((item, min(verdicts, key=lambda v: order[v.status]) if verdicts else None))
    return out


def report(results: Sequence[tuple[Item, Any]]) -> str:
    """A plain-text table: precision/recall overall and per split, then how many of each kind were flagged."""
    lines = []
    for split in ("all", "dev", "holdout"):
        sub = [(i, v) for i, v in results if split in ("all", i.split)]
        if not sub:
            continue
        s = score([(i.label, v.status if v else "uncited") for i, v in sub])
        lines.append(
            f"{split:8s} {len(sub):4d} sentences ({s.tp + s.fn} unsupported): catching unsupported: "
            f"precision {s.precision:.3f}, recall {s.recall:.3f} (tp {s.tp}, fp {s.fp}, fn {s.fn}, tn {s.tn})"
        )
    lines += ["", f"{'kind':14s} {'label':12s} {'n':>4s}  flagged"]
    for kind in sorted({i.kind for i, _ in results}):
        for label in ("supported", "unsupported"):
            sub = [(i, v) for i, v in results if i.kind == kind and i.label == label]
            if sub:
                flagged = sum(1 for _, v in sub if not v or v.status != "supported")
                lines.append(f"{kind:14s} {label:12s} {len(sub):4d}  {flagged:4d}")
    return "\n".join(lines)


#: Names the article uses, in groups a swap stays within (a person for a person, an outlet for an outlet).
NAME_GROUPS = [
    ["Amodei", "Hegseth", "Parnell", "Tillis", "Kelly", "Slotkin", "Wicker", "Allen"],
    ["Emil Michael", "Sean Parnell", "Pete Hegseth", "Roger Wicker"],
    ["Axios", "CNN", "CBS News", "NBC News"],
    ["Boeing", "Lockheed Martin"],
    ["Claude", "Grok"],
    ["Arizona", "Michigan"],
    ["Republican", "Democratic"],
    ["Wednesday", "Thursday", "Friday"],
    ["X", "Truth Social"],
]
_NUMBER_SWAPS = [("5:01", "6:01"), ("$200 million", "$20 million"), ("500", "5,000"), ("$1 million", "$10 million")]
_WORD_NUMBERS = {"two": "three", "one": "two", "three": "four"}
_NEGATIVE_VERBS = {
    "rejected": "did not reject",
    "turned down": "did not turn down",
    "set": "did not set",
    "sent": "did not send",
    "said": "did not say",
    "called": "did not call",
    "reached out": "did not reach out",
    "responded": "did not respond",
    "published": "did not publish",
    "offered": "did not offer",
    "predicted": "did not predict",
    "warned": "did not warn",
    "argues": "does not argue",
    "acknowledged": "has not acknowledged",
    "cleared": "did not clear",
    "reported": "did not report",
    "commented": "did not comment",
    "wrote": "did not write",
    "wants": "does not want",
    "made clear": "did not make clear",
    "dropped": "kept",
    "faces": "does not face",
    "wanted": "did not want",
    "chairs": "does not chair",
}


def corrupt(sentence: str) -> list[tuple[str, str, str]]:
    """Up to three false variants of a supported sentence: ``(kind, text, what changed)``."""
    out = [c for c in (_swap_name(sentence), _swap_number(sentence), _negate(sentence)) if c is not None]
    return [c for c in out if c[1] != sentence]


def _swap_name(sentence: str) -> tuple[str, str, str] | None:
    for group in NAME_GROUPS:
        for name in group:
            if not re.search(rf"\b{re.escape(name)}\b", sentence):
                continue
            other = next((n for n in group[group.index(name) + 1 :] + group if n not in sentence), None)
            if other is not None:
                return "swap-name", re.sub(rf"\b{re.escape(name)}\b", other, sentence, count=1), f"{name} -> {other}"
            other = next(n for n in group if n != name)
            if re.search(rf"{re.escape(name)}(,| and| or) {re.escape(other)}|{re.escape(other)}(,| and| or)", sentence):
                return None  # a list ("Boeing and Lockheed Martin"): exchanging them changes nothing
            return "swap-name", _exchange(sentence, name, other), f"{name} <-> {other}"
    if re.search(r"Anthropic(\W+\w+){2,}\W+Pentagon|Pentagon(\W+\w+){2,}\W+Anthropic", sentence):
        return "swap-name", _exchange(sentence, "Anthropic", "Pentagon"), "Anthropic <-> Pentagon"
    return None


def _exchange(sentence: str, a: str, b: str) -> str:
    return sentence.replace(a, "\0").replace(b, a).replace("\0", b)


def _swap_number(sentence: str) -> tuple[str, str, str] | None:
    for old, new in _NUMBER_SWAPS + list(_WORD_NUMBERS.items()):
        pattern = rf"(?<![\w$]){re.escape(old)}(?!\w)"
        if re.search(pattern, sentence):
            return "swap-number", re.sub(pattern, new, sentence, count=1), f"{old} -> {new}"
    return None


def _negate(sentence: str) -> tuple[str, str, str] | None:
    if re.search(r"\bnot\b", sentence):
        return "negation", re.sub(r"\bnot\s+", "", sentence, count=1), "removed 'not'"
    if re.search(r"\bno\b", sentence):
        return "negation", re.sub(r"\bno\s+", "", sentence, count=1), "removed 'no'"
    if "more than" in sentence:
        return "negation", sentence.replace("more than", "fewer than", 1), "more than -> fewer than"
    passive = re.search(r"\b(is|was|are|were|has|have|had)\s+(?:\w+ly\s+)?(\w+ed|said|set|sent|made)\b", sentence)
    if passive:
        at = passive.end(1)
        return "negation", f"{sentence[:at]} not{sentence[at:]}", f"{passive.group(1)} -> {passive.group(1)} not"
    verbs = [(m.start(), v) for v in _NEGATIVE_VERBS if (m := re.search(rf"\b{v}\b", sentence))]
    if verbs:
        _, verb = min(verbs)
        negative = _NEGATIVE_VERBS[verb]
        return "negation", re.sub(rf"\b{verb}\b", negative, sentence, count=1), f"{verb} -> {negative}"
    aux = re.search(r"\b(is|was|are|were|will|would|has|had|can|could)\b(?=\s+[a-z])", sentence)
    if aux:
        return (
            "negation",
            f"{sentence[: aux.end()]} not{sentence[aux.end() :]}",
            f"{aux.group(1)} -> {aux.group(1)} not",
        )
    return None


def rebuild(path: str | Path = VERIFIER_SET) -> int:
    """Rewrite the corrupted lines of the set from its supported ones; return how many there are."""
    items = [i for i in load(path) if i.origin != "corrupted"]
    lines = [_line(i) for i in items]
    count = 0
    for item in items:
        if item.label != "supported":
            continue
        for n, (kind, text, note) in enumerate(corrupt(item.sentence)):
            corrupted = replace(
                item, id=f"{item.id}-c{n}", sentence=text, label="unsupported", origin="corrupted", kind=kind, note=note
            )
            lines.append(_line(corrupted))
            count += 1
    Path(path).write_text("".join(lines), encoding="utf-8")
    return count


def _line(item: Item) -> str:
    record = {
        "id": item.id,
        "question": item.question,
        "passages": [list(p) for p in item.passages],
        "sentence": item.sentence,
        "label": item.label,
        "origin": item.origin,
        "kind": item.kind,
        "note": item.note,
        "split": item.split,
    }
    return json.dumps(record, ensure_ascii=False) + "\n"


def generate(base_url: str, out: str, store: str | None = None, rest: bool = False) -> None:
    """Ask SmolLM2 (behind an OpenAI-compatible server at ``base_url``) the answerable stand-alone questions
    of the article set (``rest``: all the others, follow-ups condensed first) with the product's prompt; write
    question, passages and raw answer per line to ``out``."""
    from rag.answerers.llm import openai_model
    from rag.chain import Assistant
    from rag.condense import condense
    from rag.config import Settings
    from rag.prompts import answer_messages

    settings = Settings.from_env(store=store, llm_base_url=base_url, llm_model="smollm2", llm_timeout=300.0)
    assistant = Assistant(settings)
    model = openai_model(settings)
    with open(out, "w", encoding="utf-8") as fh:
        for ex in load_jsonl(ARTICLE_SET):
            if (ex.answerable and not ex.history) == rest:
                continue
            turns = [(str(u), a) for u, a in ex.history]
            condensed = condense(ex.question, turns, assistant.corpus.people)
            docs = assistant.retriever.invoke(condensed.query)
            messages = answer_messages(condensed.question, docs, condensed.context)
            text = str(model.invoke(messages).content)
            passages = [[d.metadata["source"], d.metadata["start"], d.metadata["end"]] for d in docs]
            record = {"qid": ex.id, "question": condensed.question, "passages": passages, "output": text}
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
            fh.flush()
            print(ex.id, text[:100].replace("\n", " "), file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: measure (default) or generate."""
    parser = argparse.ArgumentParser(prog="python -m eval.verifier", description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", default=str(VERIFIER_SET))
    parser.add_argument("--store", help="vector store folder (default: RAG_STORE or the user's store)")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("corrupt", help="rewrite the corrupted lines from the supported ones")
    gen = sub.add_parser("generate", help="SmolLM2 answers to label")
    gen.add_argument("base_url")
    gen.add_argument("out")
    gen.add_argument("--rest", action="store_true", help="the unanswerable and follow-up questions instead")
    args = parser.parse_args(argv)
    if args.command == "corrupt":
        print(f"{rebuild(args.dataset)} corrupted sentences written to {args.dataset}")
        return 0
    if args.command == "generate":
        generate(args.base_url, args.out, args.store, args.rest)
        return 0
    print(report(measure(load(args.dataset), args.store)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
