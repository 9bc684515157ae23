"""The citation verifier: is each sentence of a generated answer supported by the source it cites?

An LLM answer is split into sentences; each sentence's ``[n]`` markers name the numbered passages of the
prompt. A sentence is *supported* when some sentence of the document (or two adjacent ones) says the same
thing, judged by:

* meaning: cosine similarity of MiniLM vectors (the source sentences' vectors were computed at index time);
* words: the IDF-weighted share of the sentence's content terms that the evidence contains, so a claim
  made of words the source never uses scores low however similar its topic;
* hard checks that similarity alone misses: every number and every name in the sentence must be in the
  evidence (a swapped name or a changed figure fails), and a negation must not appear or vanish.

The cited passages are searched first; when they do not support the sentence, the other retrieved passages
are (small models cite the wrong number; the user gets the passage that really supports the claim). A
sentence that no retrieved passage supports is *unsupported* if the model cited something and *uncited* if
it did not. Source sentences that read as instructions to the model ("ignore previous instructions ...")
never count as evidence: quoting an injected command is not a fact about the world.

The thresholds were chosen on ``eval/datasets/verifier.jsonl``; ``python -m eval.verifier`` measures them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from langchain_core.documents import Document

from core.contract import Citation, Draft, SentenceCheck
from index.embeddings import LocalEmbeddings
from rag.corpus import Corpus
from rag.text import STOPWORDS, fold, names, stem, terms

Status = Literal["supported", "unsupported", "uncited"]

#: Weight of meaning (cosine) against words (coverage) in the support score.
DENSE_WEIGHT = 0.45
#: Minimum support score, and minimum share of the sentence's terms the evidence must hold.
THRESHOLD = 0.62
MIN_COVERAGE = 0.5
#: How many of the best single sentences are tried as the first half of an adjacent pair.
PAIR_CANDIDATES = 3

#: A citation marker as models write them: [1], [1, 2], [Source 3].
MARKER = re.compile(r"\s*\[(?:(?:sources?|src|ref)\s*)?(\d{1,3}(?:\s*[,;&]\s*(?:(?:sources?)\s*)?\d{1,3})*)\]", re.I)
_MARKERS_BEFORE_STOP = re.compile(r"([.!?…])((?:\s*\[[^\]\n]{1,20}\])+)")
_TAG = re.compile(r"\s*</?\s*source[^>]{0,20}>\s*", re.I)
_NUMBER = re.compile(r"\d+(?:[.,:]\d+)*")
_NUMBER_WORDS = {
    w: str(n)
    for n, w in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
        "seventeen eighteen nineteen twenty".split()
    )
} | {"thirty": "30", "forty": "40", "fifty": "50", "hundred": "100", "thousand": "1000", "million": "1000000"}
_NEGATIONS = frozenset("not no never neither nor none nobody nothing without cannot n't nt".split())
#: How many words after a negation it is taken to negate.
_SCOPE = 4
_COMPARISON = re.compile(r"\b(more|fewer|less|over|under|above|below|least|most)(?: than)?\s+\$?\d")
_ABSTAINS = re.compile(
    r"\b(doesn't|does not|do not|don't|did not|didn't|cannot|can't)\s+(say|mention|answer|specify|state|provide|"
    r"contain|include|tell)|\bnot (mentioned|stated|specified|provided)\b|\bno (information|mention)\b",
    re.I,
)
_PRONOUN = re.compile(r"\b(he|she|they|him|her|his|them|their)\b", re.I)


@dataclass(frozen=True)
class Claim:
    """One sentence of a generated answer: its text without markers, and the passage numbers it cites."""

    text: str
    cited: tuple[int, ...]


@dataclass(frozen=True)
class Verdict:
    """Whether a claim is supported, by which document sentences (indices into ``Corpus.sentences``)."""

    claim: Claim
    status: Status
    evidence: tuple[int, ...] = ()
    score: float = 0.0
    reason: str = ""


def is_abstention(text: str) -> bool:
    """Whether a model's whole answer says the sources do not answer (and cites nothing)."""
    return len(text) < 300 and not MARKER.search(text) and bool(_ABSTAINS.search(text))


def split_claims(answer: str) -> list[Claim]:
    """The sentences of ``answer`` with their ``[n]`` markers (a marker after the full stop belongs to the
    sentence before it)."""
    from index.sentences import split_sentences

    # Small models echo the prompt's <source> tags; a tag ends whatever sentence it interrupts.
    text = re.sub(r"([.!?…][”’\"')]?)\.\n", r"\1\n", _TAG.sub(".\n", answer.strip()))
    text = _MARKERS_BEFORE_STOP.sub(lambda m: f"{m.group(2)}{m.group(1)}", text)
    claims = []
    for start, end, _ in split_sentences(text):
        piece = text[start:end]
        cited = tuple(dict.fromkeys(int(n) for m in MARKER.finditer(piece) for n in re.findall(r"\d+", m.group(1))))
        bare = MARKER.sub("", piece).strip()
        bare = re.sub(r"\s+([.,;:!?])", r"\1", bare)
        if bare and not re.fullmatch(r"[\W_]+", bare):
            claims.append(Claim(" ".join(bare.split()), cited))
    return claims


def numbers(text: str) -> set[str]:
    """The numbers in ``text``, normalised ("1,000" -> "1000", "two" -> "2")."""
    folded = fold(text)
    found = {m.group(0).replace(",", "").rstrip(".") for m in _NUMBER.finditer(folded)}
    found |= {_NUMBER_WORDS[w] for w in re.findall(r"[a-z]+", folded) if w in _NUMBER_WORDS}
    return found


def negation_scopes(text: str) -> list[frozenset[str]]:
    """For each negation in ``text``, the content terms of the few words after it (what it negates)."""
    tokens = [t.strip("'") for t in re.findall(r"[a-z0-9']+", fold(text).replace("n't", " n't"))]
    scopes = []
    for k, token in enumerate(tokens):
        if token in _NEGATIONS:
            scopes.append(frozenset(stem(w) for w in tokens[k + 1 : k + 1 + _SCOPE] if w not in STOPWORDS))
    return scopes


def comparisons(text: str) -> set[str]:
    """The direction of each comparison with a number ("more than 500" -> "more", "under $5" -> "less")."""
    found = _COMPARISON.findall(fold(text))
    return {"more" if word in ("more", "over", "above", "least") else "less" for word in found}


def _is_byline(text: str) -> bool:
    return text.startswith(("—", "– ", "- "))


def _polarity_clash(claim: str, source: str) -> str:
    """Why ``claim`` and ``source`` disagree on what is negated or compared, or "" when they do not.

    A negation in the claim must negate something the source negates too ("did not turn down" fails on a
    sentence whose only negation is "do not change our position"), and a negation in the source about
    words the claim repeats must be in the claim as well.
    """
    if not comparisons(claim) <= comparisons(source):
        return "the source compares the other way"
    claim_scopes, source_scopes = negation_scopes(claim), negation_scopes(source)
    for scope in claim_scopes:
        if scope and not any(scope & other for other in source_scopes):
            return "the source does not say this is not so (negation)"
    claim_terms = set(terms(claim))
    for scope in source_scopes:
        if scope & claim_terms and not any(scope & other for other in claim_scopes):
            return "the source says the opposite (negation)"
    return ""


class Verifier:
    """Checks generated sentences against the document sentences in the passages they cite."""

    def __init__(self, corpus: Corpus, embeddings: LocalEmbeddings, threshold: float = THRESHOLD) -> None:
        self.corpus = corpus
        self.embeddings = embeddings
        self.threshold = threshold

    def _pool(self, passages: Sequence[Document], numbers_: Sequence[int]) -> list[int]:
        out: dict[int, None] = {}
        for n in numbers_:
            meta = passages[n - 1].metadata
            for i in self.corpus.sentences_in(meta["source"], int(meta["start"]), int(meta["end"])):
                if self.corpus.usable(i):
                    out.setdefault(i, None)
        return list(out)

    def check(self, answer: str, passages: Sequence[Document]) -> list[Verdict]:
        """A verdict for every sentence of ``answer``, in order; ``passages`` are numbered from 1."""
        claims = split_claims(answer)
        if not claims:
            return []
        vectors = self.embeddings.encode([c.text for c in claims])
        everything = list(range(1, len(passages) + 1))
        verdicts = []
        for claim, vector in zip(claims, vectors, strict=True):
            cited = [n for n in claim.cited if 1 <= n <= len(passages)]
            best = self._support(claim.text, vector, self._pool(passages, cited)) if cited else None
            if best is None or best.status != "supported":
                other = self._support(claim.text, vector, self._pool(passages, everything))
                if other.status == "supported" or best is None:
                    best = other
            status: Status = best.status if best.status == "supported" else ("unsupported" if cited else "uncited")
            verdicts.append(Verdict(claim, status, best.evidence, best.score, best.reason))
        return verdicts

    # -- scoring -----------------------------------------------------------------------------------------
    def _weights(self, text: str) -> dict[str, float]:
        idf, unseen = self.corpus.bm25.idf, self.corpus.bm25.unseen_idf()
        return {t: idf.get(t, unseen) for t in terms(text)}

    def _support(self, text: str, vector: np.ndarray[Any, np.dtype[np.float32]], pool: list[int]) -> Verdict:
        claim = Claim(text, ())
        weights = self._weights(text)
        if not weights:
            return Verdict(claim, "uncited", reason="no claim to check")
        if not pool:
            return Verdict(claim, "uncited", reason="no source to check against")
        total = sum(weights.values())
        dense = self.corpus.sentence_vectors[pool] @ vector
        cover = [sum(w for t, w in weights.items() if t in self.corpus.sentence_terms[i]) / total for i in pool]
        ranked = sorted(range(len(pool)), key=lambda j: -(DENSE_WEIGHT * dense[j] + (1 - DENSE_WEIGHT) * cover[j]))
        options: list[tuple[int, ...]] = [(pool[j],) for j in ranked[:PAIR_CANDIDATES]]
        for j in ranked[:PAIR_CANDIDATES]:
            options += [tuple(sorted((pool[j], n))) for n in self.corpus.neighbours(pool[j]) if self.corpus.usable(n)]
        best = Verdict(claim, "unsupported", reason="no sentence of the cited passages says this")
        for evidence in options:
            verdict = self._judge(claim, vector, weights, evidence)
            if (verdict.status == "supported", verdict.score) > (best.status == "supported", best.score):
                best = verdict
        return best

    def _judge(
        self,
        claim: Claim,
        vector: np.ndarray[Any, np.dtype[np.float32]],
        weights: dict[str, float],
        evidence: tuple[int, ...],
    ) -> Verdict:
        joined = " ".join(self.corpus.sentences[i].text for i in evidence)
        held = frozenset().union(*(self.corpus.sentence_terms[i] for i in evidence))
        coverage = sum(w for t, w in weights.items() if t in held) / sum(weights.values())
        dense = float(max(self.corpus.sentence_vectors[i] @ vector for i in evidence))
        # A pair must earn its second sentence: it pays a small price so a single sentence wins ties.
        score = DENSE_WEIGHT * dense + (1 - DENSE_WEIGHT) * coverage - 0.03 * (len(evidence) - 1)
        missing = numbers(claim.text) - numbers(joined)
        if missing:
            return Verdict(claim, "unsupported", evidence, score, f"number {sorted(missing)[0]} is not in the source")
        # The main sentence (the one holding most of the claim) must carry its names and its polarity; a
        # second sentence may add words, never a person: otherwise "Amodei set the deadline" would pass on a
        # sentence about Hegseth's deadline next to one about Amodei.
        terms_of = self.corpus.sentence_terms
        main = max(evidence, key=lambda i: sum(w for t, w in weights.items() if t in terms_of[i]))
        main_text = self.corpus.sentences[main].text
        named = terms_of[main]
        # "He added ...": the name is one sentence back. A quoted post and its byline ("— Sean Parnell (@...)")
        # name each other too.
        if main - 1 in evidence and (_PRONOUN.search(main_text) or _is_byline(main_text)):
            named = named | terms_of[main - 1]
        if main + 1 in evidence and _is_byline(self.corpus.sentences[main + 1].text):
            named = named | terms_of[main + 1]
        absent = names(claim.text, self.corpus.proper_names) - named
        if absent:
            return Verdict(claim, "unsupported", evidence, score, f"name {sorted(absent)[0]!r} is not in the source")
        polarity = _polarity_clash(claim.text, main_text)
        if polarity:
            return Verdict(claim, "unsupported", evidence, score, polarity)
        if coverage < MIN_COVERAGE or score < self.threshold:
            return Verdict(claim, "unsupported", evidence, score, "too little of the sentence is in the source")
        return Verdict(claim, "supported", evidence, score)


def assemble(verdicts: Sequence[Verdict], corpus: Corpus, drop: bool) -> Draft | None:
    """The answer the user sees: supported sentences cite their exact evidence (``[n]`` renumbered to the
    citations), the others are kept unmarked (flag) or left out (``drop``). ``None`` when nothing is supported."""
    supported = [v for v in verdicts if v.status == "supported"]
    if not supported:
        return None
    ids: dict[int, int] = {}
    citations: list[Citation] = []
    checks: list[SentenceCheck] = []
    for v in verdicts:
        if v.status != "supported":
            if not drop:
                checks.append(SentenceCheck(v.claim.text, v.status, [], round(v.score, 4)))
            continue
        numbers_ = []
        for i in v.evidence:
            if i not in ids:
                ids[i] = len(ids) + 1
                s = corpus.sentences[i]
                citations.append(Citation(ids[i], s.source, s.start, s.end, s.text, round(v.score, 4)))
            numbers_.append(ids[i])
        marks = "".join(f"[{n}]" for n in numbers_)
        checks.append(SentenceCheck(f"{v.claim.text} {marks}", "supported", numbers_, round(v.score, 4)))
    return Draft(
        " ".join(c.text for c in checks),
        abstained=False,
        citations=citations,
        confidence=max(v.score for v in supported),
        sentences=checks,
    )
