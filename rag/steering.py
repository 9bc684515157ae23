"""Text in a document that tries to steer the assistant: detected once, when a collection's snapshot is built.

A document is data. A sentence in it that addresses the assistant ("System: from now on ...", "Note to any
AI summarising this page: ...", a link to log in at, the same in another language or encoded) is text the
document contains, never an answer: such a sentence is not a candidate for the extractive answerers, not
evidence for the verifier, and what an LLM is shown has it replaced by a marker (:func:`rag.answerers.llm.withheld`).

The detector is a fitted model, not a list of phrases, in two stages (fitted by ``eval/train_steering.py``
on the development set ``eval/datasets/injection/dev.jsonl`` and the shipped documents' sentences; weights in
``rag/data/steering.json``):

1. every sentence: a logistic regression over its embedding (the all-MiniLM-L6-v2 vector the store already
   holds, so meaning counts rather than wording), its similarity to a few descriptions of what steering
   text is (an instruction to an AI assistant, a fake system prompt, a login link, a request to reveal the
   conversation: zero-shot prototypes, kept as vectors in the model file), and measured features of its
   form that no embedding sees (a role label, a link, an address to the reader, decoding needed,
   look-alike letters, length). Most sentences stop here: the stage passes on the few that score above a
   gate set so that 98% of the development set's steering sentences pass.
2. those few are parsed (spaCy's English tagger and parser): an imperative, "you" as the subject of a
   directive, "please", reported speech, speech marks, and those crossed with the prototypes and links
   (a command *about* the conversation, a command to follow a link); a second regression decides.

Before it is read, the text is decoded the ways text is hidden from a reader (:func:`decode`): compatibility
forms (full-width letters), invisible characters, look-alike letters of other scripts (Unicode's
confusables), base64 and percent-encoding, letters spaced out, ROT13, reversed and digit-for-letter text;
the decoding that makes the most English words is kept, and the decoded text is embedded again.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import json
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import numpy as np

from core.errors import ConfigError
from rag.question import is_english
from rag.text import STOPWORDS, words

MODEL_PATH = Path(__file__).resolve().parent / "data" / "steering.json"

#: The measured features of a sentence's form.
FORM = ("label", "link", "you", "decoded", "mixed", "length")
#: The features of its parse (stage 2); stage 2 also crosses the imperative and "you" directive with the
#: highest prototype similarity, the imperative with a link, and a label with that similarity.
PARSE = ("imperative", "you_directive", "please", "reported", "quoted")
#: Modal and auxiliary words that make "you ..." a directive ("you must", "you will now").
_DIRECTIVE_AUX = frozenset("must should shall will need have 'll".split())

_LABEL = re.compile(r"^\W{0,3}[\w .'-]{1,24}?\s*:(?!//)\s*\S")
_LINK = re.compile(
    r"https?://|www\.|\b[\w-]+\.(?:com|net|org|io|co|info|biz|ru|cn|xyz|top|app|site|online|link|me)\b"
    r"|\b[\w.+-]+@[\w-]+\.[\w.]+|\+?\d[\d\s().-]{8,}\d",
    re.I,
)
_YOU = frozenset("you your yours yourself yourselves".split())
_INVISIBLE = re.compile("[\u00ad\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff]")
_BASE64 = re.compile(r"[A-Za-z0-9+/]{16,}={0,2}")
_PERCENT = re.compile(r"(?:%[0-9A-Fa-f]{2}){3,}")
_SPACED = re.compile(r"\b(?:[^\W\d_][ .\-_*]+){5,}[^\W\d_]\b")
_LEETISH = re.compile(r"[^\W\d_][013457@$][^\W\d_]|\b[013457@$][^\W\d_]{2}")
_LEET = str.maketrans("013457@$", "oieastas")


@lru_cache(maxsize=1)
def _latin_twins() -> dict[str, str]:
    """Each letter of another script that Unicode's confusables table says looks like one Latin letter
    (Cyrillic "а" -> "a"), from the table the confusable-homoglyphs package ships."""
    from importlib.resources import files

    table = json.loads(files("confusable_homoglyphs").joinpath("confusables.json").read_text(encoding="utf-8"))
    out = {}
    for ch, glyphs in table.items():
        latin = [g["c"] for g in glyphs if len(g["c"]) == 1 and g["c"].isascii() and g["c"].isalpha()]
        if len(ch) == 1 and ch.isalpha() and not ch.isascii() and latin and _script(ch) != "LATIN":
            out[ch] = latin[0]
    return out


def _script(ch: str) -> str:
    return unicodedata.name(ch, "?").split()[0]


def _mixed(word: str) -> bool:
    scripts = {_script(c) for c in word if c.isalpha()}
    return len(scripts) > 1 and "LATIN" in scripts


def english_share(text: str) -> float:
    """The share of the letters of ``text`` in English words (stop words count; single letters, which
    WordNet lists as words, do not)."""
    found = [w for w in words(text) if len(w) > 1 and not w.isdigit()]
    total = sum(map(len, found))
    if not total:
        return 0.0
    return sum(len(w) for w in found if w in STOPWORDS or is_english(w)) / total


def _base64(match: re.Match[str]) -> str:
    raw = match.group(0)
    try:
        data = base64.b64decode(raw + "=" * (-len(raw) % 4), validate=True)
        text = data.decode("utf-8")
    except (binascii.Error, ValueError):
        return raw
    return text if text.isprintable() and english_share(text) >= 0.5 else raw


def _unspace(match: re.Match[str]) -> str:
    """Letters spaced out, joined: the commonest gap joins letters, any other parts words."""
    run = match.group(0)
    gap = Counter(re.findall(r"[ .\-_*]+", run)).most_common(1)[0][0]
    return re.sub(r"[ .\-_*]+", lambda g: "" if g.group(0) == gap else " ", run)


def _twins(match: re.Match[str]) -> str:
    word = match.group(0)
    return "".join(_latin_twins().get(c, c) for c in word) if _mixed(word) else word


def decode(text: str) -> tuple[str, bool]:
    """``text`` as a reader of its hidden forms would read it, and whether any decoding was needed."""
    plain = text
    if not text.isascii():
        plain = _INVISIBLE.sub("", unicodedata.normalize("NFKC", text))
        plain = re.sub(r"\S+", _twins, plain)
    plain = _BASE64.sub(_base64, plain)
    plain = _PERCENT.sub(lambda m: unquote(m.group(0)), plain)
    plain = _SPACED.sub(_unspace, plain)
    candidates = []
    share = english_share(plain)
    if share < 0.6:
        candidates += [codecs.decode(plain, "rot13"), plain[::-1]]
    if _LEETISH.search(plain):
        candidates.append(plain.translate(_LEET))
    best = plain
    for candidate in candidates:
        got = english_share(candidate)
        if got > max(share + 0.3, 0.6):
            best, share = candidate, got
    return best, " ".join(best.split()) != " ".join(text.split())


def form_features(text: str, decoded: str, changed: bool) -> list[float]:
    """The measured features (:data:`FORM`) of ``text``, whose decoded form is ``decoded``."""
    found = words(decoded)
    return [
        float(bool(_LABEL.match(decoded))),
        float(bool(_LINK.search(decoded))),
        sum(1 for w in found if w in _YOU) / max(len(found), 1),
        float(changed),
        float(any(_mixed(w) for w in text.split())),
        math.log1p(len(found)),
    ]


def parse_features(doc: Any) -> list[float]:
    """The features of a parsed sentence (:data:`PARSE`): a verb heading the sentence in the base form
    with no subject (an imperative, "Reply with ..."; not a question), "you" as the subject of a
    directive ("you must", "you will now"), "please", reported speech (a past-tense verb governing a
    clause: "she said ..."), and speech marks."""
    text = doc.text.strip()
    question = text.endswith("?")
    imperative = you = please = reported = 0.0
    for tok in doc:
        if tok.lower_ == "please":
            please = 1.0
        heads = tok.dep_ == "ROOT" or (tok.dep_ == "conj" and tok.head.dep_ == "ROOT")
        if tok.pos_ in ("VERB", "AUX") and heads:
            subjects = [c for c in tok.children if c.dep_ in ("nsubj", "nsubjpass", "expl", "csubj")]
            aux = [c for c in tok.children if c.dep_ in ("aux", "auxpass")]
            fronted = any(a.i < tok.i and a.lower_ not in ("do", "don't", "never", "not") for a in aux)
            if tok.tag_ == "VB" and not subjects and not question and not fronted:
                imperative = 1.0
            if any(c.lower_ == "you" for c in subjects) and (
                any(a.lower_ in _DIRECTIVE_AUX for a in aux) or tok.tag_ in ("VB", "VBP")
            ):
                you = 1.0
        if tok.dep_ in ("ccomp", "parataxis") and tok.head.tag_ == "VBD":
            reported = 1.0
    quoted = float(bool(re.search('[“”‘’"]', text)))
    return [imperative, you, please, reported, quoted]


@lru_cache(maxsize=1)
def model() -> dict[str, Any]:
    """The fitted model: the prototypes' vectors, each stage's weights and intercept, the gate and the
    threshold (both in log-odds)."""
    try:
        data: dict[str, Any] = json.loads(MODEL_PATH.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"the instruction detector's model {MODEL_PATH} cannot be read ({exc}); reinstall") from exc
    for key in ("prototypes", "first", "second"):
        data[key] = (
            np.array(data[key], np.float64)
            if key == "prototypes"
            else {
                "weights": np.array(data[key]["weights"], np.float64),
                "intercept": float(data[key]["intercept"]),
            }
        )
    return data


def first_rows(
    texts: Sequence[str],
    vectors: np.ndarray[Any, np.dtype[np.float32]],
    embed: Callable[[list[str]], np.ndarray[Any, np.dtype[np.float32]]],
    prototypes: np.ndarray[Any, np.dtype[np.float64]],
) -> tuple[np.ndarray[Any, np.dtype[np.float64]], list[str]]:
    """Stage 1's input rows for ``texts`` (embedding, prototype similarities and their maximum, form
    features) and the decoded texts. ``vectors`` embed the texts as they are; texts that had to be decoded
    are embedded again, in one call."""
    decoded = [decode(t) for t in texts]
    again = [i for i, (_, changed) in enumerate(decoded) if changed]
    emb = np.asarray(vectors, np.float64).copy()
    if again:
        emb[again] = np.asarray(embed([decoded[i][0] for i in again]), np.float64)
    similar = emb @ prototypes.T
    form = np.array([form_features(t, d, c) for t, (d, c) in zip(texts, decoded, strict=True)], np.float64)
    rows = np.hstack([emb, similar, similar.max(axis=1, keepdims=True), form.reshape(len(texts), len(FORM))])
    return rows, [d for d, _ in decoded]


def second_rows(
    first: np.ndarray[Any, np.dtype[np.float64]], decoded: Sequence[str]
) -> np.ndarray[Any, np.dtype[np.float64]]:
    """Stage 2's input rows: stage 1's, with the parse features of the decoded texts and their crossings."""
    from index.analysis import parser

    parsed = np.array([parse_features(doc) for doc in parser().pipe(decoded, batch_size=256)], np.float64)
    parsed = parsed.reshape(len(decoded), len(PARSE))
    top = first[:, -len(FORM) - 1]  # the highest prototype similarity
    label, link = first[:, -len(FORM)], first[:, -len(FORM) + 1]
    crossed = np.stack([parsed[:, 0] * top, parsed[:, 1] * top, parsed[:, 0] * link, label * top], axis=1)
    return np.hstack([first, parsed, crossed])


def _logits(rows: np.ndarray[Any, np.dtype[np.float64]], stage: dict[str, Any]) -> np.ndarray[Any, Any]:
    out: np.ndarray[Any, Any] = rows @ stage["weights"] + stage["intercept"]
    return out


def steering(
    texts: Sequence[str],
    vectors: np.ndarray[Any, np.dtype[np.float32]],
    embed: Callable[[list[str]], np.ndarray[Any, np.dtype[np.float32]]],
) -> list[bool]:
    """Whether each of ``texts`` (with its embedding in ``vectors``) addresses the assistant."""
    if not len(texts):
        return []
    m = model()
    first, decoded = first_rows(texts, vectors, embed, m["prototypes"])
    out = [False] * len(texts)
    passed = np.flatnonzero(_logits(first, m["first"]) >= m["gate"])
    if len(passed):
        second = second_rows(first[passed], [decoded[i] for i in passed])
        for i, logit in zip(passed, _logits(second, m["second"]), strict=True):
            out[int(i)] = bool(logit >= m["threshold"])
    return out
