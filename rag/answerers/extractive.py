"""The default answerer: quote the source sentences that answer the question, or abstain. No LLM.

Each sentence of the retrieved passages is scored against the question by meaning (cosine similarity of
MiniLM vectors computed at index time) and by words (the IDF-weighted share of the question's terms it
contains). Three checks make abstention strict rather than hopeful:

* the answer must be of the kind asked for: a "when" question needs a time in the sentence, "how many" a
  number, "which party" a party, "which state" a state, "who did X" a person's name;
* the names the question is about must be in the sentence or its paragraph, and a rare name or a word the
  document never uses at all costs confidence (the question is about something the document lacks);
* a typed answer about a rare name must be in the sentence that names it ("Which state does Tillis
  represent?" is not answered by the Arizona of the senator in the next sentence).

Choosing which sentence to quote weighs words more than meaning, matches names only where they are
capitalised, and prefers sentences that name the question's grammatical subject. A second sentence is quoted
only when it is nearly as good by both measures and adds a part of the question the first leaves out, which
keeps citations precise: every quote should support the answer on its own.

The best sentence's score, after those penalties, is compared with a threshold calibrated on the shipped
question set (see ``eval/calibrate.py``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from core.contract import ABSTAIN_MESSAGE, Citation, Draft
from rag.answerers.base import Answerer, AnswerRequest, candidate_sentences
from rag.condense import TITLES
from rag.corpus import Corpus
from rag.text import QUESTION_WORDS, STOPWORDS, fold, stem, terms

DEFAULT_THRESHOLD = 0.10
MAX_SENTENCES = 2
RARE_NAME_SENTENCES = 3
UNKNOWN_WEIGHT = 0.2
# How much a follow-up that could not be made standalone prefers the previous answer's sentence and its neighbours.
LOCALITY_FACTOR = 1.5
# A name of the question found only in a neighbouring sentence counts this much of its weight.
NEIGHBOUR_NAME_CREDIT = 0.5
RELATION_UNKNOWN = 0.7
RELATION_COVERED = 0.05
# "Which N ...?" with its names masked vs the best sentence: MiniLM cosines this low mean unrelated texts.
RELATION_DENSE_MIN = 0.12
_WHICH_NOUN = re.compile(
    r"^(?:which|what)\s+(?!(?:is|are|was|were|do|does|did|has|have|had|will|would|can|could|should|about)\b)[a-z]"
)
_NAME_RUN = re.compile(r"\b[A-Z][\w’'-]*(?:\s+[A-Z][\w’'-]*)*")
# Answer types any sentence with a number or a date passes; the question's other words must still be covered.
LOOSE_TYPES = ("time", "number")
# A second sentence is quoted only when it scores nearly as well as the best, by both the ranking score and the
# support, and adds question words.
SECOND_SENTENCE_RATIO = 0.85
# A sentence that does not name the question's grammatical subject ("Did *Anthropic* accept ...?") is a worse
# quote than one that does: "The Pentagon sent its final offer" does not say what Anthropic did.
SUBJECT_ABSENT_FACTOR = 0.95
# "Who is X?" is answered best by a sentence that describes X by a title or an apposition.
DESCRIPTION_FACTOR = 1.2
_DEFINITION = re.compile(
    r"^(?:[Ww]ho|[Ww]hat)(?:'s|’s| is| was| are| were)\s+(?P<x>[A-Z][\w’'.-]*(?:\s+[A-Z][\w’'.-]*)*)\s*\??$"
)


def _describes(text: str, subject: str) -> bool:
    """Whether ``text`` introduces ``subject`` with a title before it or an apposition after it."""
    name = re.escape(subject.split()[-1])
    titled = re.search(rf"\b([A-Za-z]+\.?)\s+(?:[A-Z][\w.-]*\s+)*{name}\b", text)
    if titled and titled.group(1).lower().rstrip(".") in TITLES:
        return True
    return bool(re.search(rf"{name},\s+(?:a|an|the)\s", text))


# Attribution lines under a quote or a post ("— Name (@handle) date") name a person but say little else.
ATTRIBUTION_FACTOR = 0.85
_ATTRIBUTION = re.compile(r"^[—–-]\s*\S")
# How much meaning (MiniLM cosine) counts against words (IDF-weighted overlap): in the confidence that the
# passages answer the question at all (compared with the threshold), and in choosing which sentence to quote.
# Meaning separates answerable from unanswerable questions better; words pick the answering sentence better
# (MiniLM rates a short sentence on the same topic above a long one that holds the answer in one clause).
DENSE_WEIGHT = 0.6
SELECT_DENSE_WEIGHT = 0.35

_NUMBER_WORDS = (
    "one two three four five six seven eight nine ten eleven twelve dozen dozens twenty thirty forty fifty "
    "hundred hundreds thousand thousands million millions billion billions trillion half twice double triple"
)
_COUNT_TERMS = frozenset(stem(w) for w in _NUMBER_WORDS.split())
_MONTHS = "january february march april may june july august september october november december"
_DAYS = "monday tuesday wednesday thursday friday saturday sunday"
_TIME_WORDS = (
    f"{_MONTHS} {_DAYS} today yesterday tomorrow tonight morning afternoon evening night overnight midnight "
    "noon ago earlier later recently hours days weeks months years decade decades century am pm et"
)
# "Where ...?" wants a place or a venue: a sentence that names one ("on X", "in a CNN report", "on Anthropic's
# website") is preferred. A preference, not a filter: places are too varied to require.
PLACE_FACTOR = 1.15
_ASKS_WHERE = re.compile(r"^where\b")
_DAYS_AND_MONTHS = "|".join(w.title() for w in f"{_DAYS} {_MONTHS}".split())  # "on Thursday" is no place
_PLACE = re.compile(
    rf"\b(?:on|in|at|via)\s+(?:(?:the|a|an|his|her|its|their)\s+)?(?:(?!(?:{_DAYS_AND_MONTHS})\b)[A-Z][\w’'.-]*"
    r"|(?:website|blog|post|report|statement|interview|television|tv|radio|podcast|newspaper|letter|hearing"
    r"|press|social|twitter|city|state|country|office|headquarters)\b)"
)


def _asks_where(question: str) -> bool:
    return bool(_ASKS_WHERE.match(fold(question).strip()))


def _names_place(text: str) -> bool:
    return bool(_PLACE.search(text))


_STATES = (
    "alabama alaska arizona arkansas california colorado connecticut delaware florida georgia hawaii idaho "
    "illinois indiana iowa kansas kentucky louisiana maine maryland massachusetts michigan minnesota "
    "mississippi missouri montana nebraska nevada hampshire jersey mexico york carolina dakota ohio oklahoma "
    "oregon pennsylvania rhode tennessee texas utah vermont virginia washington wisconsin wyoming"
)
_ANSWER_TYPES: list[tuple[str, re.Pattern[str], re.Pattern[str]]] = [
    (
        "time",
        re.compile(r"^(when|by when)\b|\bwhat (time|date|day|year|month)\b|\bhow long ago\b|\bwhich (day|date|year)\b"),
        re.compile(rf"\b({'|'.join(_TIME_WORDS.split())})\b|\b\d{{1,2}}:\d\d\b|\b(1[89]|20)\d\d\b"),
    ),
    (
        "number",
        re.compile(
            r"\bhow (much|many|big|large|long|old|often|high|far)\b|\bwhat (percentage|percent|number|amount|share)\b"
            r"|\b(valued?|worth)\b"
        ),
        re.compile(rf"\d|\b({'|'.join(_NUMBER_WORDS.split())})\b"),
    ),
    (
        "person",
        re.compile(
            r"\bwhat(?:'s| is| was) (?:the |his |her |their )?(?:full )?name\b|\bname the (?:person|official)\b"
        ),
        re.compile(r"(?!)"),
    ),
    (
        "party",
        re.compile(r"\b(what|which) (political )?party\b"),
        re.compile(r"\b(republican|democrat|democratic|independent|gop)\b"),
    ),
    ("state", re.compile(r"\b(what|which) (us |u\.s\. )?state\b"), re.compile(rf"\b({'|'.join(_STATES.split())})\b")),
]
# "Did Anthropic accept ...?", "What did Anthropic think ...?": the name the question asks something of.
_SUBJECT = re.compile(
    r"^(?i:(?:what|which|how|why|when|where|who)\s+(?:[\w'-]+\s+){0,3}?)?"
    r"(?i:did|does|do|will|would|can|could|should|has|have|had|is|was|are|were)\s+(?i:the\s+)?"
    r"(?P<s>[A-Z][\w’'-]*(?:\s+[A-Z][\w’'-]*)*)",
)
# Nouns for people: "Which senator ...?" and "What official ...?" ask for a person, as "Who ...?" does.
PERSON_NOUNS = (
    "official senator lawmaker legislator executive spokesman spokeswoman spokesperson secretary minister leader "
    "person politician representative congressman congresswoman governor chair chairman ceo founder reporter "
    "journalist scientist researcher"
)
_AUXILIARIES = "is|was|are|were|do|does|did|has|have|had|will|would|can|could|should|may|might|must"
# "Which official ...", "What Republican senator ...", but not "What did Senator Kelly say?".
_WHICH_PERSON = re.compile(
    rf"^(?:which|what)\s+(?:(?!(?:{_AUXILIARIES})\b)[\w'-]+\s+){{0,2}}"
    rf"(?:{'|'.join(PERSON_NOUNS.split())})s?\b",
    re.IGNORECASE,
)
_WHO_SUBJECT = re.compile(r"^who(?:'s| is| was)?\s+(?!(?:do|does|did|will|would|should|can|could|are|were)\b)")


_QUANTITY = re.compile(rf"(?<![\d:])\$?\d[\d,.]*(?!:\d)|\b(?:{'|'.join(_NUMBER_WORDS.split())})\b")
_HOW_MANY = re.compile(r"\bhow many ((?:[\w'-]+ ){0,3}[\w'-]+)")


def _counts(question: str, sentence: str) -> bool:
    """Whether ``sentence`` states a quantity (not a clock time) and, for "how many X", a count of X."""
    numbers = list(_QUANTITY.finditer(sentence))
    if not numbers:
        return False
    match = _HOW_MANY.search(question)
    if not match:
        return True
    wanted = {stem(w) for w in match.group(1).split() if w not in STOPWORDS}
    for number in numbers:
        following = sentence[number.end() : number.end() + 40].split()[:3]
        if wanted & {stem(w.strip(".,;:!?\"'")) for w in following}:
            return True
    return False


def _masked(question: str) -> str | None:
    """``question`` with its names replaced by "X", if it is a "which N" question that has names."""
    if not _WHICH_NOUN.match(fold(question).strip()):
        return None
    masked = question[:1] + _NAME_RUN.sub("X", question[1:])
    return masked if masked != question else None


@dataclass(frozen=True)
class _Question:
    """What scoring and quoting both need to know of a question, worked out once."""

    names: list[frozenset[str]]
    kind: tuple[str, re.Pattern[str]] | None
    where: bool


@dataclass(frozen=True)
class _Scored:
    index: int
    #: How well the sentence answers the question: ranks the candidates (words count more than meaning).
    score: float
    #: How sure the answerer is that it answers at all: compared with the abstention threshold.
    support: float
    dense: float
    lexical: float


class ExtractiveAnswerer(Answerer):
    """Quote the best-supported sentences of the retrieved passages; abstain when the support is weak."""

    name = "extractive"

    def __init__(
        self,
        corpus: Corpus,
        threshold: float = DEFAULT_THRESHOLD,
        max_sentences: int = MAX_SENTENCES,
        unknown_weight: float = UNKNOWN_WEIGHT,
    ) -> None:
        self.corpus = corpus
        self.unknown_weight = unknown_weight
        self.threshold = threshold
        self.max_sentences = max_sentences

    # -- question analysis ------------------------------------------------------------------------------
    def _weights(self, question: str, context: str) -> dict[str, float]:
        idf, unseen = self.corpus.bm25.idf, self.corpus.bm25.unseen_idf()
        weights = {t: idf.get(t, unseen) for t in terms(question)}
        for t in terms(context):
            weights.setdefault(t, 0.3 * idf.get(t, unseen))
        return weights

    def _focus(self, question: str) -> list[frozenset[str]]:
        """Names the question is about, as groups of terms, one group per name ("Pete Hegseth" -> {pete,
        hegseth}): capitalised words (not the first) and known people. A run of such words is one name."""
        groups: list[set[str]] = []
        last_end = -1
        for match in re.finditer(r"[^\W\d_]+", question):
            word = match.group(0)
            low = fold(word)
            if low in STOPWORDS or low in QUESTION_WORDS or low in TITLES:
                continue
            before = question[: match.start()].rstrip()
            starts_sentence = not before or before[-1] in '.?!:"“'
            capitalised = word[:1].isupper() and not starts_sentence
            if capitalised or word in self.corpus.people or word.title() in self.corpus.people:
                joined = groups and question[last_end : match.start()].strip() == ""
                if joined:
                    groups[-1].add(stem(low))
                else:
                    groups.append({stem(low)})
                last_end = match.end()
        return [frozenset(g) for g in groups]

    def _answer_type(self, question: str) -> tuple[str, re.Pattern[str]] | None:
        q = fold(question).strip()
        for name, asks, needs in _ANSWER_TYPES:
            if asks.search(q):
                return name, needs
        who = _WHO_SUBJECT.match(q) and not self._names_person(question)
        if who or _WHICH_PERSON.match(q):  # "Which senator ...?"
            return "person", re.compile(r"(?!)")  # checked by _has_person, not a pattern
        return None

    def _people(self, i: int) -> set[str]:
        """The people sentence ``i`` names, by full name."""
        text = self.corpus.sentences[i].text
        return {full for name, full in self.corpus.people.items() if name in text}

    def _names_person(self, text: str) -> bool:
        return any(p in text for p in self.corpus.people) or bool(re.search(r"\b[A-Z][a-z]+ [A-Z][a-z]+\b", text[1:]))

    def _fits(self, kind: tuple[str, re.Pattern[str]] | None, i: int, question: str) -> bool:
        if kind is None:
            return True
        text = self.corpus.sentences[i].text
        if kind[0] == "person":
            return any(p in text and p not in question for p in self.corpus.people)
        if kind[0] == "number":
            return _counts(fold(question), fold(text))
        return bool(kind[1].search(fold(text)))

    # -- scoring -------------------------------------------------------------------------------------------
    def _candidates(self, request: AnswerRequest) -> list[int]:
        return list(candidate_sentences(self.corpus, request.passages))

    def _analyse(self, question: str) -> _Question:
        return _Question(self._focus(question), self._answer_type(question), _asks_where(question))

    def score(self, request: AnswerRequest, question: _Question | None = None) -> tuple[list[_Scored], float, bool]:
        """Score candidate sentences; return them best first, the confidence penalty, and a hard veto."""
        q = question or self._analyse(request.question)
        candidates = self._candidates(request)
        if not candidates or request.query_vector is None:
            return [], 0.0, True
        weights = self._weights(request.question, request.context)
        total = sum(weights.values()) or 1.0
        vocab = self.corpus.vocabulary
        # Words the document never uses: the question is probably about something it does not cover.
        unknown = sum(w for t, w in weights.items() if t not in vocab) / total
        names, kind, where = q.names, q.kind, q.where
        focus = set().union(*names)
        veto = any(t not in vocab for t in focus)
        # Rare names must be near the answer; names found all over the document (the main actors) need not be.
        # A name counts as near when any part of it is ("Amodei" for "Dario Amodei").
        rare = []
        for g in names:
            seen = [self.corpus.sentence_frequency(t) for t in g]
            if any(seen) and all(f <= RARE_NAME_SENTENCES for f in seen if f):
                rare.append(g)
        # A name is one unit, found when any part of it is: "Amodei" matches "Dario Amodei" in full.
        grouped = {t for g in names if len(g) > 1 for t in g}
        units = [(g, max(weights.get(t, 0.0) for t in g), True) for g in names if len(g) > 1]
        units += [(frozenset((t,)), w, t in focus) for t, w in weights.items() if t not in grouped]
        unit_total = sum(w for _, w, _ in units) or 1.0
        definition = _DEFINITION.match(request.question.strip())
        subject = definition.group("x") if definition else ""
        dense = self.corpus.sentence_vectors[candidates] @ request.query_vector
        grammatical = _SUBJECT.match(request.question.strip())
        subject_terms = set(terms(grammatical.group("s"))) if grammatical else set()
        scored = []
        for j, i in enumerate(candidates):
            sterms = self.corpus.sentence_terms[i]
            beside = self.corpus.neighbours(i)
            around = sterms.union(*(self.corpus.sentence_terms[n] for n in beside))
            # Names are matched where a name can be, in capitalised words: "the Defense Department" names it,
            # "missile defense" does not.
            caps = self.corpus.sentence_capitals[i]
            caps_around = caps.union(*(self.corpus.sentence_capitals[n] for n in beside))
            if not all(g & around for g in rare) or not self._fits(kind, i, request.question):
                continue
            if kind is not None and not all(g & caps for g in rare):
                continue  # "Which state does Tillis represent?": the state must be said of Tillis, not beside him
            # Names may sit in the next sentence ("... Sean Parnell posted:" then the post itself), at a
            # discount: a sentence that names its subject itself is the better quote. The rest of the
            # question, what it asks about, must be in the sentence that is quoted.
            lexical = 0.0
            for members, w, is_name in units:
                if members & (caps if is_name else sterms):
                    lexical += w
                elif is_name and members & caps_around:
                    lexical += NEIGHBOUR_NAME_CREDIT * w
            lexical /= unit_total
            factor = 1.0
            if subject and _describes(self.corpus.sentences[i].text, subject):
                factor *= DESCRIPTION_FACTOR  # "Who is X?" wants "Chief spokesman X" or "X, a senior adviser"
            if _ATTRIBUTION.match(self.corpus.sentences[i].text):
                factor *= ATTRIBUTION_FACTOR  # "— Sean Parnell (@handle) date": who said it, not what was said
            if where and _names_place(self.corpus.sentences[i].text):
                factor *= PLACE_FACTOR
            d = float(dense[j])
            prefer = SUBJECT_ABSENT_FACTOR if subject_terms and not subject_terms & caps else 1.0
            rank = prefer * factor * (SELECT_DENSE_WEIGHT * d + (1 - SELECT_DENSE_WEIGHT) * lexical)
            support = factor * (DENSE_WEIGHT * d + (1 - DENSE_WEIGHT) * lexical)
            scored.append(_Scored(i, rank, support, d, lexical))
        scored.sort(key=lambda s: -s.score)
        if scored and not veto:
            coverage, unknown_share = self._relation(weights, focus, scored[0].index)
            if kind is None:
                # What is asked about is mostly words the document never uses, and none of it is near the
                # best sentence; or, for "which N" questions, it means nothing like the best sentence.
                veto = unknown_share >= RELATION_UNKNOWN and coverage <= RELATION_COVERED
                veto = veto or self._unrelated_instance(request, scored[0].index)
            elif kind[0] in LOOSE_TYPES or kind[0] == "person":
                # "How much is Anthropic valued at?", "What's the name of the safety head who left?": a number,
                # a date or a person is found, but nowhere near anything else the question asks about.
                veto = coverage == 0.0
        return scored, self.unknown_weight * unknown, veto

    def probes(self, question: str) -> list[str]:
        """For a "which N" question that names something, the question with its names masked (embedded with
        the question, in the chain's one call, for :meth:`_unrelated_instance`)."""
        masked = _masked(question)
        return [masked] if masked is not None else []

    def _unrelated_instance(self, request: AnswerRequest, best: int) -> bool:
        """For "Which company makes Grok?": read without its names ("Which company makes X?"), does the
        question mean anything like the best sentence? MiniLM's similarity is dominated by shared names, so a
        sentence about Grok ranks first whatever is asked about Grok; below RELATION_DENSE_MIN the sentence
        says nothing of the kind of thing asked for."""
        masked = _masked(request.question)
        vector = request.probe_vectors.get(masked) if masked is not None else None
        if vector is None:
            return False
        return float(self.corpus.sentence_vectors[best] @ vector) < RELATION_DENSE_MIN

    def _relation(self, weights: dict[str, float], focus: set[str], best: int) -> tuple[float, float]:
        """What the question asks *about* (its words other than names): the share of it found in or next to
        the best sentence, and the share of it the document never uses. "How much is Anthropic valued at?"
        against an article that never mentions a valuation scores (0, 1)."""
        relation = {t: w for t, w in weights.items() if t not in focus}
        total = sum(relation.values())
        if not total:
            return 1.0, 0.0
        vocab = self.corpus.vocabulary
        unknown = sum(w for t, w in relation.items() if t not in vocab) / total
        around = self.corpus.sentence_terms[best].union(
            *(self.corpus.sentence_terms[n] for n in self.corpus.neighbours(best))
        )
        covered = sum(w for t, w in relation.items() if t in around) / total
        return covered, unknown

    def answer(self, request: AnswerRequest) -> Draft:
        """Quote up to ``max_sentences`` supporting sentences, or abstain."""
        q = self._analyse(request.question)
        scored, penalty, veto = self.score(request, q)
        confidence = (max(s.support for s in scored) - penalty) if scored else 0.0
        if veto or not scored or confidence < self.threshold:
            return Draft(ABSTAIN_MESSAGE, abstained=True, confidence=confidence)
        said = set(request.previous)
        near: set[int] = set()
        if request.context and said:
            # A follow-up the rewriter could not make standalone ("What were they trying to find out?") is
            # usually about the passage of the previous answer: prefer its sentence and the ones next to it,
            # if they are of the kind asked for ("Where did he publish that?" wants a place).
            near = {
                n
                for i in said
                for n in (i, *self.corpus.neighbours(i))
                if not q.where or _names_place(self.corpus.sentences[n].text)
            }
            if near:
                scored = sorted(
                    (replace(c, score=c.score * LOCALITY_FACTOR) if c.index in near else c for c in scored),
                    key=lambda c: -c.score,
                )
        elif said:
            # In a conversation, prefer what has not been quoted already ("And Mark Kelly?" after Tillis).
            fresh = [c for c in scored if c.index not in said]
            if fresh and fresh[0].score >= SECOND_SENTENCE_RATIO * scored[0].score:
                scored = fresh
        chosen = [scored[0]]
        person = q.kind is not None and q.kind[0] == "person"
        first_people = self._people(scored[0].index) if person else set()
        # What the question asks about, less its names (the first sentence or its neighbours carry those) and
        # its counts ("Which two restrictions ...?" does not ask for the word "two").
        own = set(terms(request.question)) - set().union(*q.names) - _COUNT_TERMS
        covered = self.corpus.sentence_terms[scored[0].index]
        for cand in scored[1 : 1 + 4]:
            if len(chosen) >= self.max_sentences or cand.score < SECOND_SENTENCE_RATIO * scored[0].score:
                break
            if cand.support < SECOND_SENTENCE_RATIO * scored[0].support:
                continue
            if near and cand.index not in near:
                continue  # a follow-up about the previous passage is answered from that passage
            # Quote a second sentence only for a part of the question the first one leaves out, and only
            # one that is itself of the kind asked for.
            if q.where and not _names_place(self.corpus.sentences[cand.index].text):
                continue
            if person and self._people(cand.index) - first_people:
                continue  # "Which senator ...?" has one answer: not a second sentence about someone else
            if (self.corpus.sentence_terms[cand.index] & own) - covered:
                chosen.append(cand)
                covered = covered | self.corpus.sentence_terms[cand.index]
        chosen.sort(key=lambda s: (self.corpus.sentences[s.index].source, self.corpus.sentences[s.index].start))
        citations, parts = [], []
        for n, s in enumerate(chosen, start=1):
            sent = self.corpus.sentences[s.index]
            citations.append(Citation(n, sent.source, sent.start, sent.end, sent.text, round(s.score, 4)))
            parts.append(f"{' '.join(sent.text.split())} [{n}]")
        return Draft(" ".join(parts), abstained=False, citations=citations, confidence=confidence)
