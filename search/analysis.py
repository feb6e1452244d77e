"""Text analysis shared by both search backends: folding, tokenizing, language choice, stemming.

Why in Python rather than in each engine: tantivy and whoosh must see *identical* token streams,
or the same query would return different hits depending on the backend; and tantivy's built-in
stemmers have no Indonesian, which half the archive is written in. So the backends index the
two lists :func:`analyze` returns (``exact`` and ``stems``, position-aligned) through a
pass-through tokenizer, and analyse query words with :func:`query_terms`, which uses the very same
functions.

Speed (the indexer's budget is about 30 µs per 160-word document, on one core) drives the design:

* No per-token Python code on the common path: ``re.findall`` over a whole text costs 40-100 µs
  per document on its own, so the regex runs only on memo misses.
* Tokens never span whitespace, so a text is split on whitespace by ``str.split`` (C) and each
  whitespace-separated *chunk* (``"Banjir,"``, ``"#BanjirJakarta"``, ``"🌊di"``) is folded and
  tokenized once and memoized: chunk -> tokens. Social media repeats its vocabulary, so almost
  every chunk is a dict hit.
* Plain ASCII text (no ``#``, ``@``, ``'`` or ``://``) skips even that: lower-case, punctuation to
  spaces, split, all in C; it yields exactly the tokens the chunk path would (a test checks it).
* Stems are memoized the same way, one dict per language: a token's stem is one C-level dict
  lookup; the stemmers (Snowball is pure Python, Sastrawi costs ~200 µs a word) run only on
  a word's first sighting.
* The memos are bounded (cleared when they pass :data:`CHUNK_MEMO_LIMIT` or
  :data:`STEM_MEMO_LIMIT` entries), so a long indexing run over unique strings (URLs, typos)
  cannot grow memory without limit.

``bench/analysis.py`` measures it: 25-35 µs of CPU per document for the plain synthetic texts and
35-50 µs for post-like ones (emoji, hashtags, a new URL each), on a busy shared 2-core machine.
What remains is mostly ``str.split`` and hashing each word once for its dict lookup.

Tokenization rules (see :func:`tokenize`) are the contract both backends and the query parser rely
on; changing them requires reindexing.
"""

from __future__ import annotations

import re
import sys
import threading
import unicodedata
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from functools import cache, lru_cache
from itertools import chain, repeat
from typing import Any

# Entries before a memo is cleared. Full, the chunk memo holds about 45 MB and each stem memo
# about 40 MB (measured with random 3-12 letter words); the vocabulary of real posts mostly fits.
CHUNK_MEMO_LIMIT = 200_000
STEM_MEMO_LIMIT = 500_000


class Language(StrEnum):
    """The languages with a stemmer. Everything else is stemmed as English (Snowball leaves
    non-Latin words alone, so that mostly means "not stemmed")."""

    ENGLISH = "en"
    INDONESIAN = "id"


@dataclass(frozen=True, slots=True)
class Analyzed:
    """One text, analysed: ``exact[i]`` and ``stems[i]`` are the same word at position ``i``."""

    exact: list[str]
    stems: list[str]
    language: Language


@dataclass(frozen=True, slots=True)
class QueryTerms:
    """What one query word becomes (see :func:`query_terms`).

    ``exact`` has one folded token per position; more than one means the word must be searched as a
    phrase (``"e-mail"`` -> ``("e", "mail")``). ``stems[i]`` holds the alternative stems for
    position ``i``: the position matches when the indexed stem equals ANY of them. Both tuples are
    empty when the word has nothing indexable (only symbols or emoji); such a word matches nothing.
    """

    exact: tuple[str, ...]
    stems: tuple[tuple[str, ...], ...]


# --- folding -------------------------------------------------------------------------------------

# Removed after NFKD: the generic diacritics used with Latin, Greek and Cyrillic (so "café" is
# "cafe"), plus invisible format characters that would otherwise split or pollute words: soft
# hyphen, zero-width (non-)joiner, word joiner, BOM, variation selectors, emoji tag characters.
# Script-specific marks (Devanagari vowel signs, Arabic harakat, kana voicing) are kept: dropping
# them changes words rather than accents.
_DROPPED = re.compile(
    "[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
    "\u00ad\u200c\u200d\u2060\ufeff\ufe00-\ufe0f\U000e0000-\U000e007f\U000e0100-\U000e01ef]+"
)
# Typographic apostrophes behave like ASCII ' (so "don’t" and "don't" are one word).
_APOSTROPHES = {0x2019: "'", 0x02BC: "'"}
_FOLD_PASSES = 4


def fold(text: str) -> str:
    """Case- and accent-fold ``text``: NFKC (full-width and compatibility forms), ``casefold``,
    then NFKD with diacritics dropped, then NFC. ``"Café"`` -> ``"cafe"``, ``"İstanbul"`` ->
    ``"istanbul"``, ``"ＡＢＣ"`` -> ``"abc"``, ``"Straße"`` -> ``"strasse"``.

    Idempotent: a few code points only settle after a second pass (casefold can produce forms
    that normalization changes again), so non-ASCII results are re-folded until stable.
    """
    if text.isascii():
        return text.lower()  # same as casefold for ASCII, and 20x cheaper than the full path
    folded = _fold_once(text)
    for _ in range(_FOLD_PASSES):
        if folded.isascii():
            return folded
        again = _fold_once(folded)
        if again == folded:
            return folded
        folded = again
    return folded


def _fold_once(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text).casefold()
    decomposed = _DROPPED.sub("", unicodedata.normalize("NFKD", folded))
    return unicodedata.normalize("NFC", decomposed.translate(_APOSTROPHES))


# --- tokenizing ----------------------------------------------------------------------------------

# Han ideographs, hiragana and katakana: written without spaces, so each is a token of its own
# (as Lucene's StandardTokenizer does for ideographs); a query word in these scripts becomes a
# phrase of characters and finds them anywhere in a run.
_CJK = ("\u3041-\u3096\u309d-\u309f\u30a0-\u30ff\u31f0-\u31ff"  # hiragana, katakana
        "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003ffff")  # Han
_URL_TRAILING = r""".,;:!?)\]}>'"”»"""


@cache
def _marks() -> str:
    """A regex class body of every combining mark (categories Mn, Mc, Me).

    Python's ``re`` has no ``\\p{M}``, and without marks ``\\w`` would cut Indic, Thai or Arabic
    words apart at every vowel sign. Built on first use (about 50 ms), not at import.
    """
    code_points = chain(range(0x20000), range(0xE0000, 0xE1000))  # no marks outside planes 0, 1, 14
    marks = [cp for cp in code_points if unicodedata.category(chr(cp)).startswith("M")]
    ranges: list[tuple[int, int]] = []
    for cp in marks:
        if ranges and ranges[-1][1] == cp - 1:
            ranges[-1] = (ranges[-1][0], cp)
        else:
            ranges.append((cp, cp))
    return "".join(re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}" for a, b in ranges)


@cache
def _token_pattern() -> re.Pattern[str]:
    """The token regex, applied to one folded whitespace-free chunk (see :func:`tokenize`)."""
    marks = _marks()
    letters = rf"[^\W_{_CJK}]+"  # letters and digits, not CJK (one class: each char is one test)
    letters_and_marks = rf"{letters}(?:[{marks}]+(?:{letters})?)*"  # disjoint parts: no backtracking
    word = rf"{letters_and_marks}(?:'{letters_and_marks})*"
    handle_part = rf"\w+(?:[{marks}]+\w*)*"  # letters, digits, underscore (handles and tags allow _)
    handle = rf"{handle_part}(?:[.-]{handle_part})*"
    # "#" or "@" not glued to a preceding word; the sign is matched first and the look-behind
    # checks the character before it, which is much cheaper than asserting at every position.
    # (A class mixing \w with ranges is scanned range by range, so marks get a class of their own.)
    return re.compile(
        rf"https?://\S*[^\s{_URL_TRAILING}]"  # URL up to whitespace, minus trailing punctuation
        rf"|#(?<!\w#)(?<![{marks}]#){handle_part}"  # hashtag
        rf"|@(?<!\w@)(?<![{marks}]@){handle}(?:@{handle})?"  # mention, optionally @host
        rf"|[{_CJK}]"
        rf"|{word}"
    )


class _ChunkMemo(dict[str, tuple[str, ...]]):
    """Raw whitespace-free chunk -> its tokens. A ``dict`` subclass so that a hit is
    ``dict.__getitem__`` in C and only a miss (``__missing__``) runs Python."""

    def __missing__(self, chunk: str) -> tuple[str, ...]:
        tokens = tuple(map(sys.intern, _token_pattern().findall(fold(chunk))))
        _store(self, CHUNK_MEMO_LIMIT, chunk, tokens)
        return tokens


_CHUNKS = _ChunkMemo()


# ASCII text with none of the characters that start or join special tokens tokenizes as plain
# runs of ASCII letters and digits: the same tokens as the chunk path, at half the cost.
_ASCII_SEPARATORS = {code: " " for code in range(128) if not chr(code).isalnum()}


def tokenize(text: str) -> list[str]:
    """The folded tokens of ``text`` in order; a token's position is its list index.

    Tokens are:

    * words: runs of letters, digits and combining marks in any script; an apostrophe between
      letters stays inside the word (``"council's"``, ``"jum'at"``; ’ counts as '), so Snowball
      can strip the English possessive. Hyphens, underscores, dots and every other punctuation
      mark split words: ``"e-mail"`` -> ``["e", "mail"]``, ``"3.5"`` -> ``["3", "5"]``. A query
      word is tokenized the same way, so ``e-mail`` searches the phrase ``e mail``;
    * each Han, hiragana or katakana character on its own (these scripts have no spaces);
    * ``#hashtags`` and ``@mentions`` (``@walikota@kota.example.go.id``, ``@user.bsky.social``)
      as one token including the sign, when not glued to a preceding word (``info@kota.go.id``
      is an address: ``info``, ``kota``, ``go``, ``id``);
    * ``http(s)://`` URLs up to whitespace, minus trailing ``.,;:!?)]}>'"`` and closing quotes.

    Emoji and other symbols separate tokens and are dropped: ``"banjir🌊di"`` -> ``["banjir",
    "di"]``. Numbers are tokens. Scripts written without spaces other than CJK (Thai, Khmer)
    yield one token per run: a known limit.
    """
    if text.isascii() and "#" not in text and "@" not in text and "'" not in text and "://" not in text:
        return text.lower().translate(_ASCII_SEPARATORS).split()
    return _tokenize_chunks(text)


def _tokenize_chunks(text: str) -> list[str]:
    """The general path: every whitespace-separated chunk through the memo, the tuples
    concatenated by ``list.extend`` driven from C (``deque(..., maxlen=0)`` just runs the ``map``;
    half the cost of ``chain.from_iterable``)."""
    tokens: list[str] = []
    deque(map(tokens.extend, map(_CHUNKS.__getitem__, text.split())), maxlen=0)
    return tokens


# --- language ------------------------------------------------------------------------------------

# Frequent function words only; a text's language is whichever list it uses more.
_ENGLISH_WORDS = "the and of to is for in on are with this that be will at by it you your from not was have".split()
_INDONESIAN_WORDS = ("yang dan di ke dari untuk ini itu dengan tidak pada akan dalam ada atau juga kami kita "
                     "anda sudah oleh bisa mohon kepada sedang telah karena").split()
_LANGUAGE_SCORE = {word: 1 for word in _ENGLISH_WORDS} | {word: -1 for word in _INDONESIAN_WORDS}
DETECTION_TOKENS = 64  # a post's language shows in its first sentences; a long text costs no more
_DECLARED = {"en": Language.ENGLISH, "eng": Language.ENGLISH,
             "id": Language.INDONESIAN, "in": Language.INDONESIAN, "ind": Language.INDONESIAN}


def detect_language(text: str) -> Language:
    """English or Indonesian, by counting each language's function words among the first
    :data:`DETECTION_TOKENS` tokens; ties (including none found) go to English.

    Cheap on purpose (one dict lookup per token): it only picks a stemmer, and a query without a
    language searches both languages' stems anyway.
    """
    return _detect(tokenize(text))


def _detect(tokens: list[str]) -> Language:
    score = sum(map(_LANGUAGE_SCORE.get, tokens[:DETECTION_TOKENS], repeat(0)))
    return Language.INDONESIAN if score < 0 else Language.ENGLISH


@lru_cache(maxsize=1024)
def declared_language(tag: str | None) -> Language | None:
    """The language a BCP-47 tag declares, if it is one we stem: primary subtag ``en``/``eng`` or
    ``id``/``in`` (the withdrawn code for Indonesian)/``ind``, any case, ``-`` or ``_``. ``None``
    for anything else: matching by prefix would take ``inh`` (Ingush) for Indonesian."""
    if not tag:
        return None
    return _DECLARED.get(tag.strip().replace("_", "-").split("-", 1)[0].lower())


def language_for(lang: str | None, text: str) -> Language:
    """The record's declared language when it is English or Indonesian, else a detected one.

    The declared tag wins because platforms set it from the author's settings or the client,
    which is more reliable than counting words in a short post.
    """
    return declared_language(lang) or detect_language(text)


# --- stemming ------------------------------------------------------------------------------------

_NOT_STEMMED = re.compile(r"[#@]|https?://|.*\d")  # hashtags, mentions, URLs, anything with a digit
_SASTRAWI_INPUT = re.compile(r"[a-z]+")  # Sastrawi strips everything else, mangling the token
_STEMMER_LOCK = threading.Lock()  # the Snowball stemmer object keeps per-call state


@cache
def _english() -> Callable[[str], str]:
    import snowballstemmer

    stemmer: Any = snowballstemmer.stemmer("english")
    stem_word: Callable[[str], str] = stemmer.stemWord
    return stem_word


@cache
def _indonesian() -> Callable[[str], str]:
    """Sastrawi's stemmer, created on first use (loading its dictionary takes ~40 ms).

    The factory wraps it in a cache of its own that never forgets; we unwrap it, since
    :class:`_StemMemo` already caches, with a bound.
    """
    from Sastrawi.Stemmer.StemmerFactory import StemmerFactory

    stemmer: Any = StemmerFactory().create_stemmer()
    stem_text: Callable[[str], str] = getattr(stemmer, "delegatedStemmer", stemmer).stem
    return stem_text


def _stem_uncached(token: str, language: Language) -> str:
    if not token or _NOT_STEMMED.match(token):
        return token
    with _STEMMER_LOCK:
        if language is Language.INDONESIAN:
            stemmed = _indonesian()(token) if _SASTRAWI_INPUT.fullmatch(token) else token
        else:
            stemmed = _english()(token)
    return sys.intern(stemmed) if stemmed and " " not in stemmed else token  # never an empty or split token


class _StemMemo(dict[str, str]):
    """Token -> stem in one language; a hit is ``dict.__getitem__`` in C."""

    def __init__(self, language: Language) -> None:
        super().__init__()
        self.language = language

    def __missing__(self, token: str) -> str:
        stemmed = _stem_uncached(token, self.language)
        _store(self, STEM_MEMO_LIMIT, token, stemmed)
        return stemmed


_STEMS = {language: _StemMemo(language) for language in Language}


def stem(token: str, language: Language) -> str:
    """The stem of one token (from :func:`tokenize`) in ``language``: Snowball English, or Sastrawi
    for Indonesian (``memperbaiki`` -> ``baik``). Hashtags, mentions, URLs and tokens containing a
    digit are returned unchanged: they are names and numbers, not words. Memoized."""
    return _STEMS[language][token]


def _store(memo: dict[str, Any], limit: int, key: str, value: Any) -> None:
    """Insert into a memo, first emptying it if full: crude, but a refill costs only misses and
    needs no bookkeeping on hits (an LRU would cost Python work on every lookup)."""
    if len(memo) >= limit:
        memo.clear()
    memo[key] = value


# --- entry points --------------------------------------------------------------------------------


def analyze(text: str, lang: str | None) -> Analyzed:
    """Tokens and stems of a record's text, stemmed in its declared or detected language."""
    exact = tokenize(text)
    language = declared_language(lang) or _detect(exact)
    return Analyzed(exact=exact, stems=list(map(_STEMS[language].__getitem__, exact)), language=language)


def query_terms(word: str, language: Language | None = None) -> QueryTerms:
    """What a query word searches: its tokens (``exact``) and, per token, its candidate stems.

    Without a language the query may be aimed at either, so each position gets its stem in
    English *and* in Indonesian (``"memperbaiki"`` -> ``("memperbaiki", "baik")``): a document
    stemmed in either language then matches. With a language, only that one is used. Alternatives
    are de-duplicated, English first.
    """
    exact = tuple(tokenize(word))
    languages = (language,) if language is not None else tuple(Language)
    return QueryTerms(exact=exact, stems=tuple(_unique(stem(token, lang) for lang in languages) for token in exact))


def _unique(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values))
