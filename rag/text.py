"""Word-level text helpers shared by BM25, the answerer and follow-up rewriting.

Deliberately small: a Unicode-aware tokenizer, an English stop list and the Porter2 (Snowball) stemmer with a
table of irregular verbs, so that "deadlines" meets "deadline", "surveil" meets "surveillance" and "lost" meets
"losing".
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import snowballstemmer

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
    """Lower-case, drop accents ("Beyoncé" -> "beyonce") and fold typographic quotes and dashes so that
    lexical matching ignores them. Offsets are not kept: fold text to compare it, never to cite it."""
    text = unicodedata.normalize("NFKC", text)
    if not text.isascii():
        decomposed = unicodedata.normalize("NFKD", text)
        text = unicodedata.normalize("NFKC", "".join(ch for ch in decomposed if not unicodedata.combining(ch)))
    return (
        text.replace("’", "'")
        .replace("‘", "'")
        .replace("“", '"')
        .replace("”", '"')
        .replace("—", "-")
        .replace("–", "-")
        .lower()
    )


# Irregular English forms that no suffix rule reaches, mapped to the form their regular siblings stem to
# ("lost" meets "losing", "sent" meets "send").
_IRREGULAR = {
    form: line.split(":")[0].strip()
    for line in """
    be: was were been; begin: began begun; bring: brought; build: built; buy: bought; choose: chose chosen;
    come: came; draw: drew drawn; drive: drove driven; eat: ate eaten; fall: fell fallen; feel: felt;
    fight: fought; find: found; fly: flew flown; forbid: forbade forbidden; give: gave given; go: went gone;
    grow: grew grown; hold: held; keep: kept; know: knew known; lead: led; leave: left; lose: lost; make: made;
    mean: meant; meet: met; pay: paid; rise: rose risen; run: ran; say: said; see: saw seen; seek: sought;
    sell: sold; send: sent; shake: shook shaken; speak: spoke spoken; spend: spent; stand: stood;
    steal: stole stolen; strike: struck; take: took taken; teach: taught; tell: told; think: thought;
    throw: threw thrown; understand: understood; win: won; write: wrote written
    """.split(";")
    for form in line.split(":")[1].split()
}
# Abbreviated titles, written out so that "Sen. Thom Tillis" meets "Which senator ...?".
_IRREGULAR.update(sen="senator", rep="representative", gov="governor", dept="department", govt="government")
_SNOWBALL = snowballstemmer.stemmer("english")  # compiled (PyStemmer) when installed, as the project does


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """The Porter2 (Snowball) stem of a folded word, after mapping irregular forms ("posted" -> "post",
    "surveillance" -> "surveil", "lost" -> "lose")."""
    if word.isdigit():
        return word
    return str(_SNOWBALL.stemWord(_IRREGULAR.get(word, word)))


def words(text: str) -> list[str]:
    """All word tokens of ``text``, folded to lower case. Numbers like 5:01 and 1.5 stay whole; letters and
    digits part ("CoV2" -> "cov", "2"), so "SARS-CoV2" and "SARS-CoV-2" share their terms."""
    return _WORD.findall(fold(text))


def terms(text: str) -> list[str]:
    """Content terms: words minus stop words, stemmed. The unit of BM25 and of lexical overlap."""
    return [stem(w) for w in words(text) if w not in STOPWORDS]


def names(text: str, proper: frozenset[str] = frozenset()) -> set[str]:
    """Terms of the names in ``text``: capitalised words and acronyms. The first word counts only when it is
    an acronym or one of the ``proper`` terms (words the document capitalises mid-sentence)."""
    out = set()
    for i, match in enumerate(re.finditer(r"[^\W_]+(?:['’]s\b)?", text)):
        word = re.sub(r"['’]s$", "", match.group(0))
        if len(word) < 2 or not word[0].isupper():
            continue
        low = fold(word)
        if low in STOPWORDS:
            continue
        term = stem(low)
        if i == 0 and not word.isupper() and term not in proper:
            continue
        out.add(term)
    return out
