"""Word-level text helpers shared by BM25, the answerer and follow-up rewriting.

Deliberately tiny and dependency-free: a Unicode-aware tokenizer, an English stop list and a light
suffix-stripping stemmer, good enough to match "deadlines" with "deadline" and "Amodei’s" with "Amodei".
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_WORD = re.compile(r"[0-9]+(?:[.,:][0-9]+)*|[^\W\d_]+", re.UNICODE)

STOPWORDS = frozenset(
    """
    a about above after again against all also am an and any are aren as at be because been before being
    below between both but by can could did didn do does doesn doing don down during each else ever few
    for from further had hadn has hasn have haven having he her here hers herself him himself his how i
    if in into is isn it its itself just let ll me might more most much must my myself no nor not now of
    off on once only or other our ours ourselves out over own re s same shall she should so some such t
    than that the their theirs them themselves then there these they this those through to too under
    until up upon us very was wasn we were weren what when where which while who whom whose why will
    with won would wouldn you your yours yourself yourselves ve d m o y tell say says said know please
    article does give given get got one ones thing things
    happen happens happened happening describe explain discuss according mention mentioned document
    documents text context information provided based some any kind sort way
    """.split()
)

# Question words carry the *kind* of answer wanted, not its content.
QUESTION_WORDS = frozenset("what who whom whose which when where why how".split())


def fold(text: str) -> str:
    """Lower-case and fold typographic quotes and dashes so that lexical matching ignores them."""
    text = unicodedata.normalize("NFKC", text)
    return (
        text.replace("’", "'")
        .replace("‘", "'")
        .replace("“", '"')
        .replace("”", '"')
        .replace("—", "-")
        .replace("–", "-")
        .lower()
    )


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """Strip common English inflections ("deadlines" -> "deadline", "posted" -> "post")."""
    if len(word) <= 3 or word.isdigit():
        return word
    for suffix, repl, min_len in (
        ("ies", "y", 5),
        ("sses", "ss", 5),
        ("ches", "ch", 5),
        ("shes", "sh", 5),
        ("xes", "x", 4),
        ("ings", "", 7),
        ("ing", "", 6),
        ("edly", "", 7),
        ("ed", "", 5),
        ("ly", "", 6),
    ):
        if word.endswith(suffix) and len(word) >= min_len:
            word = word[: len(word) - len(suffix)] + repl
            break
    else:
        if word.endswith("s") and not word.endswith(("ss", "us", "is")):
            word = word[:-1]
    # "invoked"/"invoke" and "posted"/"post" should meet: drop a trailing e.
    if len(word) > 4 and word.endswith("e"):
        word = word[:-1]
    return word


def words(text: str) -> list[str]:
    """All word tokens of ``text``, folded to lower case. Numbers like 5:01 and 1.5 stay whole; letters and
    digits part ("CoV2" -> "cov", "2"), so "SARS-CoV2" and "SARS-CoV-2" share their terms."""
    return _WORD.findall(fold(text))


def terms(text: str) -> list[str]:
    """Content terms: words minus stop words, stemmed. The unit of BM25 and of lexical overlap."""
    return [stem(w) for w in words(text) if w not in STOPWORDS]
