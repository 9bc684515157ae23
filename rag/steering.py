"""Text in a document that tries to steer the assistant: detected once, when a collection's snapshot is built.

A document is data. A sentence in it that addresses the assistant ("System: from now on ...", "Note to any
AI summarising this page: ...", a link to log in at, the same in another language or encoded) is text the
document contains, never an answer: such a sentence is not a candidate for the extractive answerers, not
evidence for the verifier, and what an LLM is shown has it replaced by a marker (:func:`rag.answerers.llm.withheld`).

The detector is a fitted model, not a list of phrases, in two stages and two more steps (fitted by
``eval/train_steering.py`` on the development sets under ``eval/datasets/injection/`` and the shipped
documents' sentences; weights in ``rag/data/steering.json`` and ``rag/data/steering_reader.npz``):

1. every sentence: a logistic regression over its embedding less its document's mean (the all-MiniLM-L6-v2
   vector the store already holds: what sets the sentence apart from the text around it), its similarity
   to a few descriptions of what steering text is (zero-shot prototypes, kept as vectors in the model
   file), to its document and to its neighbours, and measured features of its form that no embedding sees
   (a role label, a link, an address to the reader, decoding needed, look-alike letters, length, the share
   of English words). It is a cheap gate: more than half of ordinary sentences stop here, and a gate set so
   that 99.5% of the development steering sentences pass it sends the rest on.
2. those are read by a fine-tuned reader: MiniLM itself with low-rank updates (LoRA) of its linear layers,
   merged into its weights when loaded, and a linear head on its mean-pooled output. It reads the whole
   sentence, word order included, so that "tell the user to log in at ..." and "users can log in at ..."
   differ. Its threshold comes from out-of-fold scores of every ordinary validation sentence (hard
   development sentences and all the shipped documents'): half a unit of log-odds above the score past
   which 0.3% of them would be flagged (``FALSE_FLAG_RATE`` in ``eval/train_steering.py``).
   What it made of each sentence is kept with a snapshot (:class:`Readings`), so a collection's next
   snapshot reads only the sentences it has not read. The reader sees a sentence alone, so it cannot tell a
   link to the site of the organisation a page is about from one to a look-alike of it; the document can:
   a sentence naming a host the rest of its document never names (:func:`unvouched`) has ``link_shift``
   added to its log-odds (fitted by ``eval/steering_shifts.py`` on planted documents the reader never saw).
3. two neighbouring sentences of a document, neither flagged, the likelier within reach of the threshold,
   are read again as one text (:func:`read_pairs`) and both flagged when that reading reaches a threshold
   of its own (``pair_threshold``, set by ``eval/steering_pairs.py`` half a unit of log-odds above the
   likeliest reading of an ordinary pair of the development data): a notice and what it asks of the
   reader may read as ordinary one at a time.
4. a flag spreads within its paragraph (:func:`spread`): a plant is often several sentences, and the one
   that carries its payload (the false claim a fake turn answers with) reads as ordinary alone. Beside a
   flagged sentence a sentence is read (past the gate or not) and flagged when its log-odds plus a fitted
   shift per flagged neighbour (how much likelier steering is there, out of fold on the planted documents)
   reach the threshold; a flagged neighbour across a paragraph break counts its own fitted shift.

Before it is read, the text is decoded the ways text is hidden from a reader (:func:`decode`): compatibility
forms (full-width letters), invisible characters, look-alike letters of other scripts (Unicode's
confusables), base64, hex and percent-encoding, letters spaced out, ROT13, reversed and digit-for-letter
text, each tried on the whole text and on each of its parts (an English label, then the hidden message);
the decoding that makes the most English words is kept, and the decoded text is embedded again.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import itertools
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
#: The fine-tuned reader's weights: low-rank updates of MiniLM's linear layers and a classifying head.
READER_PATH = MODEL_PATH.with_name("steering_reader.npz")

#: Names how the detector reads a text (its decodings, pairs); changed with them, so snapshots flag anew.
METHOD = "hex-parts-pairs-links"
#: The measured features of a sentence's form.
FORM = ("label", "link", "you", "decoded", "mixed", "length", "english")
#: How many sentences either side of a sentence count as its neighbours.
NEAR = 2
#: How many sentences of ordinary text a document's mean vector is drawn towards.
PRIOR_WEIGHT = 5

_LABEL = re.compile(r"^\W{0,3}[\w .'-]{1,24}?\s*:(?!//)\s*\S")
_LINK = re.compile(
    r"https?://|www\.|\b[\w-]+\.(?:com|net|org|io|co|info|biz|ru|cn|xyz|top|app|site|online|link|me)\b"
    r"|\b[\w.+-]+@[\w-]+\.[\w.]+|\+?\d[\d\s().-]{8,}\d",
    re.I,
)
#: A host a text links to or mails (its name is checked against the public suffix list: :func:`names`).
_HOST = re.compile(
    r"(?:https?://)?(?:www\.)?((?:[a-z0-9-]+\.)+[a-z]{2,})(?=[/\s:;,.)\]'\"?!>]|$)|[\w.+-]+@((?:[\w-]+\.)+[a-z]{2,})",
    re.I,
)
_YOU = frozenset("you your yours yourself yourselves".split())
_INVISIBLE = re.compile("[\u00ad\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff]")
_BASE64 = re.compile(r"[A-Za-z0-9+/]{16,}={0,2}")
_PERCENT = re.compile(r"(?:%[0-9A-Fa-f]{2}){3,}")
_HEX = re.compile(r"\b(?:[0-9A-Fa-f]{2}){8,}\b")
#: Where a sentence's parts meet ("Exam tip: <encoded>"): each part may be hidden on its own.
_PARTS = re.compile(r"(\s*[:;]\s+|\s+[\u2014\u2013]\s+|\*\*\s*)")
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


def _hex(match: re.Match[str]) -> str:
    raw = match.group(0)
    try:
        text = bytes.fromhex(raw).decode("utf-8")
    except ValueError:
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


def _unhidden(plain: str) -> str:
    """``plain`` read backwards, in ROT13 (either only when it has three words or more) or with digits for
    letters, whichever makes it English enough (most English words), else ``plain``."""
    candidates = []
    share = english_share(plain)
    if share < 0.6 and len(plain.split()) >= 3:  # a fragment ("J. Trop.", "Wi-Fi") is not a hidden message
        candidates += [codecs.decode(plain, "rot13"), plain[::-1]]
    if _LEETISH.search(plain):
        candidates.append(plain.translate(_LEET))
    best = plain
    for candidate in candidates:
        got = english_share(candidate)
        if got > max(share + 0.3, 0.6):
            best, share = candidate, got
    return best


def decode(text: str) -> tuple[str, bool]:
    """``text`` as a reader of its hidden forms would read it, and whether any decoding was needed. Whole
    texts and each of their parts (:data:`_PARTS`: an English label before a hidden message) are tried, and
    the reading with the larger share of English words kept."""
    plain = text
    if not text.isascii():
        plain = _INVISIBLE.sub("", unicodedata.normalize("NFKC", text))
        plain = re.sub(r"\S+", _twins, plain)
    plain = _BASE64.sub(_base64, plain)
    plain = _HEX.sub(_hex, plain)
    plain = _PERCENT.sub(lambda m: unquote(m.group(0)), plain)
    plain = _SPACED.sub(_unspace, plain)
    whole = _unhidden(plain)
    parts = "".join(p if i % 2 or len(p.split()) < 3 else _unhidden(p) for i, p in enumerate(_PARTS.split(plain)))
    best = parts if english_share(parts) > english_share(whole) else whole
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
        english_share(decoded),
    ]


@lru_cache(maxsize=1)
def _suffixes() -> Any:
    """The public suffix list tldextract ships (never fetched, never cached on disk), loaded once."""
    import tldextract

    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, include_psl_private_domains=True)


def names(text: str) -> list[str]:
    """The names of the hosts ``text`` links to or mails: each host's label before its public suffix
    (``payments`` of ``www.payments.example.co.uk``, ``upenn`` of ``pennmedicine.upenn.edu``), lower case,
    without hyphens. What looks like a host but has no public suffix (a file name, a word after a full stop
    with no space) is none."""
    found = []
    for match in _HOST.finditer(text):
        for host in match.groups():
            if host:
                parts = _suffixes()(host)
                if parts.suffix and parts.domain:
                    found.append(parts.domain.lower().replace("-", ""))
    return found


def unvouched(texts: Sequence[str], groups: Sequence[object] | None = None) -> list[bool]:
    """Whether each of ``texts`` (in document order; ``groups`` naming each one's document) names a host
    (:func:`names`) that the rest of its document never names: a link to a look-alike of the host's own
    site ("hartwell-tools-offers.shop" in a page of Hartwell's, which names itself "Hartwell") rather than
    to the organisation the page is about or cites. A name is looked for in the document's letters and
    digits run together (so "Marlowe and Finch" vouches for "marloweandfinch.co.uk"); a name of fewer than
    four letters only as a word."""
    owners = groups if groups is not None else [0] * len(texts)
    out = [False] * len(texts)
    found = [names(t) if _HOST.search(t) else [] for t in texts]
    starts = [0] + [i for i in range(1, len(texts)) if owners[i] != owners[i - 1]] + [len(texts)]
    for a, b in itertools.pairwise(starts):
        wanted = {n for i in range(a, b) for n in found[i]}
        if not wanted:
            continue
        joined = _letters(" ".join(texts[a:b]))
        counted = Counter(w for t in texts[a:b] for w in words(t))
        named = {n: joined.count(n) if len(n) >= 4 else counted[n] for n in wanted}  # in the whole document
        for i in (i for i in range(a, b) if found[i]):
            own, own_words = _letters(texts[i]), Counter(words(texts[i]))
            out[i] = any(named[n] <= (own.count(n) if len(n) >= 4 else own_words[n]) for n in found[i])
    return out


def _letters(text: str) -> str:
    """``text``'s letters and digits, run together in lower case."""
    return re.sub(r"[\W_]+", "", text.lower())


@lru_cache(maxsize=1)
def version() -> str:
    """A short hash of the detector's fitted files and :data:`METHOD`: snapshots record it, so a new detector
    flags anew."""
    import hashlib

    digest = hashlib.sha256(METHOD.encode())
    for path in (MODEL_PATH, READER_PATH):
        try:
            digest.update(path.read_bytes())
        except OSError:
            digest.update(b"missing")
    return digest.hexdigest()[:8]


@lru_cache(maxsize=1)
def model() -> dict[str, Any]:
    """The fitted model: the prototypes' vectors, each stage's weights and intercept, the gate and the
    threshold (both in log-odds)."""
    try:
        data: dict[str, Any] = json.loads(MODEL_PATH.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"the instruction detector's model {MODEL_PATH} cannot be read ({exc}); reinstall") from exc
    for key in ("prototypes", "prior", "first"):
        data[key] = (
            np.array(data[key], np.float64)
            if key in ("prototypes", "prior")
            else {
                "weights": np.array(data[key]["weights"], np.float64),
                "intercept": float(data[key]["intercept"]),
            }
        )
    return data


def contexts(
    vectors: np.ndarray[Any, np.dtype[np.float64]],
    groups: Sequence[object],
    prior: np.ndarray[Any, np.dtype[np.float64]],
) -> tuple[np.ndarray[Any, np.dtype[np.float64]], np.ndarray[Any, np.dtype[np.float64]]]:
    """For each row of ``vectors`` (sentences in document order, ``groups`` naming each one's document):
    its document's mean vector (drawn towards ``prior``, the mean of ordinary text, as if the document had
    :data:`PRIOR_WEIGHT` more sentences, so that a short document has a mean), and its mean similarity to
    the sentences up to :data:`NEAR` places before and after it in the same document (0 for one alone)."""
    n = len(vectors)
    centroids = np.zeros_like(vectors)
    near = np.zeros(n)
    starts = [0] + [i for i in range(1, n) if groups[i] != groups[i - 1]] + [n]
    for a, b in itertools.pairwise(starts):
        block = vectors[a:b]
        centroids[a:b] = (block.sum(axis=0) + PRIOR_WEIGHT * prior) / (b - a + PRIOR_WEIGHT)
        total, count = np.zeros(b - a), np.zeros(b - a)
        for step in range(1, NEAR + 1):
            if b - a <= step:
                break
            sim = (block[step:] * block[:-step]).sum(axis=1)
            total[step:] += sim
            total[:-step] += sim
            count[step:] += 1
            count[:-step] += 1
        near[a:b] = total / np.maximum(count, 1)
    return centroids, near


def first_rows(
    texts: Sequence[str],
    vectors: np.ndarray[Any, np.dtype[np.float32]],
    embed: Callable[[list[str]], np.ndarray[Any, np.dtype[np.float32]]],
    prototypes: np.ndarray[Any, np.dtype[np.float64]],
    prior: np.ndarray[Any, np.dtype[np.float64]],
    groups: Sequence[object] | None = None,
) -> tuple[np.ndarray[Any, np.dtype[np.float64]], list[str]]:
    """Stage 1's input rows for ``texts`` and the decoded texts. A row holds the sentence's embedding less
    its document's mean (what sets it apart from the text around it, rather than its topic), its
    similarity to the prototypes and their maximum, its similarity to its document's mean and to its
    neighbours, and its form features. ``vectors`` embed the texts as they are (the store's vectors);
    texts that had to be decoded are embedded again, in one call. ``groups`` names each text's document
    (texts in document order); without it they are one document."""
    groups = groups if groups is not None else [0] * len(texts)
    decoded = [decode(t) for t in texts]
    again = [i for i, (_, changed) in enumerate(decoded) if changed]
    stored = np.asarray(vectors, np.float64)
    emb = stored.copy()
    if again:
        emb[again] = np.asarray(embed([decoded[i][0] for i in again]), np.float64)
    centroids, near = contexts(stored, groups, prior)
    similar = emb @ prototypes.T
    unit = centroids / np.maximum(np.linalg.norm(centroids, axis=1, keepdims=True), 1e-9)
    fit = (emb * unit).sum(axis=1, keepdims=True)
    form = np.array([form_features(t, d, c) for t, (d, c) in zip(texts, decoded, strict=True)], np.float64)
    rows = np.hstack(
        [
            emb - centroids,
            similar,
            similar.max(axis=1, keepdims=True),
            fit,
            near.reshape(-1, 1),
            form.reshape(len(texts), len(FORM)),
        ]
    )
    return rows, [d for d, _ in decoded]


#: Where each low-rank update goes, in every layer of the encoder.
READER_TARGETS = (
    "attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense",
    "intermediate.dense", "output.dense",
)  # fmt: skip
#: The reader reads at most this many tokens of a sentence.
READER_TOKENS = 128


def _pooled(encoder: Any, tokenizer: Any, texts: Sequence[str]) -> Any:
    """The mean of ``encoder``'s last hidden states over each text's tokens, normalised (a torch tensor)."""
    import torch

    enc = tokenizer(list(texts), padding=True, truncation=True, max_length=READER_TOKENS, return_tensors="pt")
    hidden = encoder(**enc).last_hidden_state
    mask = enc["attention_mask"].unsqueeze(-1).to(hidden.dtype)
    return torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=-1)


@lru_cache(maxsize=1)
def reader() -> tuple[Any, Any, Any]:
    """MiniLM with the reader's updates merged into its weights, its tokenizer and the head, loaded once."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    from index.embeddings import resolve_model_path

    path = resolve_model_path("all-MiniLM-L6-v2")
    try:
        weights = np.load(READER_PATH)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"the instruction detector's reader {READER_PATH} cannot be read ({exc}); reinstall") from exc
    tokenizer = AutoTokenizer.from_pretrained(path)
    encoder = AutoModel.from_pretrained(path).eval()
    scale = float(weights["scale"])
    with torch.no_grad():
        for n, layer in enumerate(encoder.encoder.layer):
            for target in READER_TARGETS:
                linear = layer.get_submodule(target)
                delta = weights[f"{n}.{target}.b"].astype(np.float32) @ weights[f"{n}.{target}.a"].astype(np.float32)
                linear.weight += torch.from_numpy(delta * scale)
    head = (weights["head.weight"].astype(np.float64).ravel(), float(weights["head.bias"].ravel()[0]))
    return encoder, tokenizer, head


def read(texts: Sequence[str], batch: int = 64) -> np.ndarray[Any, np.dtype[np.float64]]:
    """The reader's log-odds that each text addresses the assistant (texts read in order of length, so
    that a batch pads little)."""
    import torch

    encoder, tokenizer, (weights, bias) = reader()
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    pooled = np.zeros((len(texts), len(weights)))
    with torch.inference_mode():
        for at in range(0, len(order), batch):
            part = order[at : at + batch]
            pooled[part] = _pooled(encoder, tokenizer, [texts[i] for i in part]).numpy()
    logits: np.ndarray[Any, np.dtype[np.float64]] = pooled @ weights + bias
    return logits


class Readings:
    """The reader's log-odds by sentence (:func:`reading_key`), kept from one snapshot of a collection to
    the next: ``earlier`` ones are looked up, and those looked up or added now are the ones to keep."""

    def __init__(self, earlier: dict[bytes, float] | None = None) -> None:
        self.earlier = earlier or {}
        self.now: dict[bytes, float] = {}

    def read(self, texts: Sequence[str]) -> np.ndarray[Any, np.dtype[np.float64]]:
        """:func:`read`, for the texts not read before."""
        keys = [reading_key(t) for t in texts]
        for key in keys:
            if key not in self.now and key in self.earlier:
                self.now[key] = self.earlier[key]
        new = [i for i, key in enumerate(keys) if key not in self.now]
        if new:
            for i, logit in zip(new, read([texts[i] for i in new]), strict=True):
                self.now[keys[i]] = float(logit)
        return np.array([self.now[key] for key in keys], np.float64)


def reading_key(text: str) -> bytes:
    import hashlib

    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()


def _logits(rows: np.ndarray[Any, np.dtype[np.float64]], stage: dict[str, Any]) -> np.ndarray[Any, Any]:
    out: np.ndarray[Any, Any] = rows @ stage["weights"] + stage["intercept"]
    return out


def spread(
    flags: Sequence[bool],
    blocks: Sequence[object],
    logits: Callable[[list[int]], Sequence[float]],
    shift: float,
    threshold: float,
    documents: Sequence[object] | None = None,
    across: float = 0.0,
) -> list[bool]:
    """``flags`` grown into the neighbours of flagged sentences in the same block (``blocks``, one key per sentence
    in document order; a paragraph). A plant is often several sentences of which only some read as steering
    alone: a fake turn and the false claim it answers with, "[INST]" ... "[/INST]" around an instruction, a
    warning and its login link. Next to a flagged sentence a sentence is that much more likely to be steering:
    ``shift`` is the log-odds ratio of that, per flagged neighbour, measured out of fold on the planted development
    documents (``eval/train_steering.py``). With ``documents`` (each sentence's
    document), a flagged neighbour in the next or previous block of the same document counts ``across`` instead
    (a fake exchange written a turn to a line, a header above its instruction), fitted the same way. A neighbour
    is flagged when its reader's log-odds (``logits`` of indices, asked only for these neighbours) plus the
    shifts of its flagged neighbours reach ``threshold``; repeated until nothing changes."""
    out = list(flags)
    n = len(out)
    known: dict[int, float] = {}

    def weight(i: int, j: int) -> float:
        """What flagged sentence ``i`` adds to its neighbour ``j`` (0 when they are not neighbours)."""
        if blocks[i] == blocks[j]:
            return shift
        if documents is not None and across > 0 and documents[i] == documents[j]:
            return across
        return 0.0

    def pull(j: int) -> float:
        return sum(weight(i, j) for i in (j - 1, j + 1) if 0 <= i < n and out[i])

    frontier = [i for i in range(n) if out[i]]
    while frontier:
        near = sorted({j for i in frontier for j in (i - 1, i + 1) if 0 <= j < n and not out[j] and weight(i, j) > 0})
        unread = [j for j in near if j not in known]
        if unread:
            known.update(zip(unread, (float(v) for v in logits(unread)), strict=True))
        frontier = [j for j in near if known[j] + pull(j) >= threshold]
        for j in frontier:
            out[j] = True
    return out


def read_pairs(
    texts: Sequence[str], pairs: Sequence[tuple[int, int]], readings: Readings | None = None
) -> np.ndarray[Any, np.dtype[np.float64]]:
    """The reader's log-odds of each pair of neighbouring ``texts`` read as one text (decoded as one). A
    plant of two sentences, a notice and what it asks, can read as ordinary sentence by sentence and as
    steering together."""
    if not pairs:
        return np.zeros(0, np.float64)
    joined = [decode(texts[i] + " " + texts[j])[0] for i, j in pairs]
    return readings.read(joined) if readings is not None else read(joined)


def steering(
    texts: Sequence[str],
    vectors: np.ndarray[Any, np.dtype[np.float32]],
    embed: Callable[[list[str]], np.ndarray[Any, np.dtype[np.float32]]],
    groups: Sequence[object] | None = None,
    readings: Readings | None = None,
    paragraphs: Sequence[int] | None = None,
) -> list[bool]:
    """Whether each of ``texts`` (with its embedding in ``vectors``; ``groups`` naming each one's document,
    texts in document order) addresses the assistant. ``readings`` keeps what the reader made of each
    text, to be reused. Neighbouring texts near the threshold are read again as one (:func:`read_pairs`).
    With ``paragraphs`` (each text's block in its document), a flag spreads to the neighbours in its
    paragraph that read as likely enough steering beside it (:func:`spread`)."""
    if not len(texts):
        return []
    m = model()
    first, decoded = first_rows(texts, vectors, embed, m["prototypes"], m["prior"], groups)
    out = [False] * len(texts)
    known: dict[int, float] = {}
    lift = float(m.get("link_shift", 0.0))
    lifted = set(np.flatnonzero(unvouched(decoded, groups)).tolist()) if lift else set()

    def reading(indices: list[int]) -> list[float]:
        """The reader's log-odds of these texts, each read once, with the link shift where it applies."""
        new = [i for i in indices if i not in known]
        if new:
            wanted = [decoded[i] for i in new]
            got = readings.read(wanted) if readings is not None else read(wanted)
            known.update((i, v + lift if i in lifted else v) for i, v in zip(new, got.tolist(), strict=True))
        return [known[i] for i in indices]

    passed = [int(i) for i in np.flatnonzero(_logits(first, m["first"]) >= m["gate"])]
    if passed:
        for i, logit in zip(passed, reading(passed), strict=True):
            out[i] = bool(logit >= m["threshold"])
    if "pair_threshold" in m:
        owners = groups if groups is not None else [0] * len(texts)
        pairs = [
            (i, i + 1)
            for i in range(len(texts) - 1)
            if i in known
            and i + 1 in known
            and owners[i] == owners[i + 1]
            and not (out[i] or out[i + 1])
            and max(known[i], known[i + 1]) >= m["pair_floor"]
        ]
        for (i, j), logit in zip(pairs, read_pairs(texts, pairs, readings), strict=True):
            if logit >= m["pair_threshold"]:
                out[i] = out[j] = True
    if paragraphs is not None and "neighbour_shift" in m and any(out):
        owners = groups if groups is not None else [0] * len(texts)
        blocks = list(zip(owners, paragraphs, strict=True))
        out = spread(
            out,
            blocks,
            reading,
            float(m["neighbour_shift"]),
            float(m["threshold"]),
            owners,
            float(m.get("neighbour_shift_across", 0.0)),
        )
    return out
