"""Turn a follow-up question into a standalone one, offline and without an LLM.

"What did he post online?" after "Who is Jane Roe?" becomes "What did Jane Roe post online?";
"And John Doe?" after "What did Ann Smith say about the ministry?" becomes "What did John Doe say about the
ministry?". References it cannot resolve safely ("When did they send it?") keep the question as
asked and carry the previous question along as retrieval context, which is what a reader would do.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from core.contract import Turn, to_turn

_PERSONAL = {"he": "", "him": "", "she": "", "his": "'s", "her": "'s"}
_OTHER_REFERENCES = frozenset("it its they them their theirs these those there this that such".split())
# Words after which "that"/"this" is a pronoun, not a determiner or a conjunction ("about that", "was that").
_BEFORE_A_PRONOUN = frozenset("is was were are did does do about of after before with from like".split())
_FOLLOW_UP_START = re.compile(r"^\s*(and|also|so|but|then|what about|how about)\b", re.IGNORECASE)
_ELLIPSIS = re.compile(r"^\s*(?:and|what about|how about|and what about)\s+(?P<x>.+?)\s*\??\s*$", re.IGNORECASE)
_TOKEN = re.compile(r"[A-Za-z’'][\w’'.-]*|\S")
_ORG_WORDS = frozenset(
    """department pentagon news committee center centre house senate act inc company corp corporation university
    institute agency office party hill studies services international defense defence strategic war
    times post journal reuters bureau council commission court army navy force forces group bank
    association foundation ministry government administration network networks ai""".split()
)
TITLES = frozenset(
    """sen senator rep representative gov governor president ceo chief secretary spokesman spokeswoman spokesperson
    official chair chairman chairwoman director dr mr mrs ms minister adviser advisor general judge""".split()
)
_WHO_OR_WHICH = re.compile(r"^(?:who|whom|which)\b", re.IGNORECASE)
# "Who is Sean Parnell?" is about the person it names, whoever else the answer mentions.
_WHO_IS = re.compile(r"^(?i:who|whom)(?i:'s|’s|\s+is|\s+was|\s+are|\s+were)\s+(?:[A-Z]|the\s+[A-Z])")
_NOT_NAMES = frozenset(
    """what who whom whose which when where why how did does do is are was were the a an and or in on of to for
    with by at from if i you we it its he she they this that these those and read related yes no""".split()
)


@dataclass(frozen=True)
class Condensed:
    """The question to show and answer, and the text to retrieve with (the question plus any context)."""

    question: str
    query: str
    context: str = ""


def _capitalised_runs(text: str) -> list[str]:
    """Runs of capitalised words, e.g. "Sen. Jane Roe" -> "Jane Roe" (titles dropped)."""
    runs: list[list[str]] = []
    current: list[str] = []
    for tok in _TOKEN.findall(text):
        word = tok.rstrip(".,;:!?’'").removesuffix("’s").removesuffix("'s")
        if word[:1].isupper() and word.lower() not in _NOT_NAMES and word.lower().rstrip(".") not in TITLES:
            current.append(word)
            if tok != word and not (tok.endswith(".") and len(word) == 1):
                runs.append(current)
                current = []
            continue
        if current:
            runs.append(current)
        current = []
    if current:
        runs.append(current)
    return [" ".join(r) for r in runs]


def known_people(texts: Iterable[str]) -> dict[str, str]:
    """Map each surname (and full name) of the people named in ``texts`` to the full name.

    A person is a run of two or three capitalised words, none an organisation word nor a word the texts
    also use in lower case (which rules out headline words such as "Mass Surveillance"). The corpus is
    the gazetteer, so this works for any document, not only the bundled article.
    """
    texts = list(texts)
    lower_words = {w for text in texts for w in re.findall(r"\b[a-z][a-z]+\b", text)}
    excluded = _ORG_WORDS | lower_words  # once: rebuilding it for every name part made this quadratic
    people: dict[str, str] = {}
    for text in texts:
        tokens = re.findall(r"[A-Za-z]+", text)
        if sum(t[0].isupper() for t in tokens) > 0.6 * len(tokens):
            continue  # a headline in title case: its capitals say nothing about names
        for run in _capitalised_runs(text):
            parts = run.split()
            if not 2 <= len(parts) <= 3 or any(p.lower() in excluded for p in parts):
                continue
            if all(p[:1].isupper() and p[1:].islower() for p in parts):
                people.setdefault(run, run)
                people.setdefault(parts[-1], run)
    return people


def _people_in(text: str, people: dict[str, str]) -> list[str]:
    found = []
    for run in _capitalised_runs(text):
        parts = run.split()
        for name in (run, parts[-1]):
            if name in people and people[name] not in found:
                found.append(people[name])
                break
        else:
            if 2 <= len(parts) <= 3 and not any(p.lower() in _ORG_WORDS for p in parts):
                found.append(run)
    return found


def _is_follow_up(question: str) -> bool:
    words = [w.lower().strip("?.!,") for w in question.split()]
    if _FOLLOW_UP_START.match(question) or len(words) <= 2:
        return True
    if any(w in _PERSONAL for w in words):
        return True
    for i, w in enumerate(words):
        if w in _OTHER_REFERENCES - {"that", "this", "there"}:
            return True
        if w in {"that", "this", "there"} and (
            i == len(words) - 1
            or words[i + 1] in {"say", "mean", "is", "was", "happen"}
            or (i > 0 and words[i - 1] in _BEFORE_A_PRONOUN)  # "Where was that reported?", "Why is this so?"
        ):
            return True
    return False


def _replace_people(question: str, person: str) -> tuple[str, bool]:
    replaced = False

    def swap(match: re.Match[str]) -> str:
        nonlocal replaced
        word = match.group(0)
        replaced = True
        return person + _PERSONAL[word.lower()]

    out = re.sub(r"\b(he|him|she|his|her)\b", swap, question, count=1, flags=re.IGNORECASE)
    return out, replaced


def _understood(turn: Turn, earlier: Sequence[Turn], people: dict[str, str]) -> str:
    """How ``turn``'s question was understood: what the turn carries, or (for a plain text pair, the only
    case where it is not known) worked out again from the turns before it."""
    if turn.standalone_question is not None:
        return turn.standalone_question
    return condense(turn.question, earlier, people).question


def condense(question: str, history: Sequence[Turn | Any] | None, people: dict[str, str] | None = None) -> Condensed:
    """Rewrite ``question`` to stand alone given ``history`` (oldest first: :class:`~core.contract.Turn`
    objects, answer objects or ``[user, assistant]`` pairs)."""
    question = question.strip()
    turns = [t for t in (to_turn(h) for h in (history or [])) if t.question]
    if not turns or not _is_follow_up(question):
        return Condensed(question, question)
    people = people or {}
    previous = _understood(turns[-1], turns[:-1], people)
    prev_answer = turns[-1].answer or ""

    ellipsis = _ELLIPSIS.match(question)
    if ellipsis:
        target = ellipsis.group("x").rstrip("?. ")
        new_people = _people_in(target, people)
        old_people = _people_in(previous, people)
        if new_people and old_people:
            old = old_people[0]
            pattern = "|".join(re.escape(n) for n in sorted({old, old.split()[-1]}, key=len, reverse=True))
            rewritten = re.sub(pattern, new_people[0], previous, count=1)
            return Condensed(rewritten, rewritten)
        if len(target.split()) <= 4:
            rewritten = f"{previous.rstrip('?')} — {target}?"
            return Condensed(rewritten, rewritten)

    # After "Who ...?" or "Which ...?" answered with someone new, that person is the one talked about ("Which
    # outlet reported his comments?" after "Which Pentagon figure accused Amodei?" -> "Emil Michael.");
    # otherwise (and after "Who is Sean Parnell?") the previous question's.
    asked = _people_in(previous, people)
    answered = _people_in(prev_answer, people)
    new = [p for p in answered if p not in asked]
    asks_who = _WHO_OR_WHICH.match(previous.strip()) and not _WHO_IS.match(previous.strip())
    candidates = (new if asks_who else []) or asked or answered
    for turn in reversed(turns[:-1]):
        candidates = candidates or _people_in(turn.standalone_question or turn.question, people)
    rewritten, replaced = question, False
    if candidates:
        rewritten, replaced = _replace_people(question, candidates[0])
    words = {w.lower().strip("?.!,") for w in rewritten.split()}
    if replaced and not (words & _OTHER_REFERENCES) and not _FOLLOW_UP_START.match(rewritten):
        return Condensed(rewritten, rewritten)
    # Something is still unresolved: answer the question as asked, retrieve with the previous one too.
    return Condensed(rewritten, f"{rewritten} {previous}", context=previous)
