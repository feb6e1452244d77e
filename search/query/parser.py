r"""The search query language: :func:`parse_query` turns what a user typed into a :class:`Query`.

One parser serves every backend, so a query means the same thing on tantivy and whoosh, and a
mistake is reported once, here, with the character where it happened: a malformed query raises
:class:`~search.errors.QuerySyntaxError` (with a 0-based ``position``) and never quietly returns
no hits.

Words and phrases
-----------------

``budget``
    A word; matches its stem, so ``budget`` also finds "budgets" and "budgeting". Words may use
    any script and may contain digits and inner ``'``, ``-``, ``.`` and ``_`` (``e-mail``,
    ``u.s.``, ``don't``); the analyser splits and folds them exactly as it does archived text.
    A word needs at least one letter or digit (``&`` or an emoji alone is an error).
``#banjir``, ``@walikota``, ``@walikota@kota.example``
    Hashtags and handles are single words, matched as the analyser indexes them.
``https://kota.example/info?page=2``
    An unquoted URL (``http://`` or ``https://``) runs to the next space or ``)`` and is one
    word; ``?`` and ``*`` inside it are not wildcards.
``=budget``
    The exact (unstemmed) form only.
``"road closure"``
    A phrase: the words next to each other, in order. ``"road closure"~3`` allows up to 3 other
    words in between (at most 100, :data:`search.fields.MAX_DISTANCE`); ``="road closure"``
    matches exact forms. Inside quotes every character is literal (``"AND"`` is the word "and");
    write ``\"`` for a quote and ``\\`` for a backslash. A phrase of one word is that word.
``budg*``
    Words starting with ``budg``; at least 2 characters must come before the ``*``.
``b?dget``, ``b*get``
    Wildcards: ``?`` is one character, ``*`` any run. A word cannot start with a wildcard (that
    would scan every word in the index). Outside quotes ``?`` is always a wildcard, so ``what?``
    means "what" plus one more character.

Combining
---------

``budget road``, ``budget AND road``, ``budget && road``
    Both. Items written side by side must all match.
``budget OR road``, ``budget || road``
    Either.
``NOT spam``, ``-spam``
    Exclude. ``-`` must touch what it excludes (``-spam``, ``-"road closure"``, ``-(a OR b)``,
    ``-platform:x``); inside a word a hyphen is just a hyphen (``e-mail``). A query made only of
    exclusions (``-spam``) means "everything except".
``(budget OR anggaran) road``
    Parentheses group.

Precedence, tightest first: proximity, then NOT and ``-``, then AND (written or implied), then
OR. So ``a b OR c`` is ``(a AND b) OR c``, ``NOT a b`` is ``(NOT a) AND b`` and
``road NOT closure`` is ``road AND NOT closure``.

**Operators are upper case.** ``AND``, ``OR``, ``NOT``, ``TO`` and ``NEAR`` are operators only
when written in capitals; ``and``, ``or`` and ``not`` are ordinary words, so pasted prose is
searched as prose. ``&&`` and ``||`` are operators only as separate words (``AT&T`` is a word).
``TO`` belongs in date ranges and is an error elsewhere; write ``to`` to search for the word.

Proximity
---------

``budget w/5 road``, ``budget NEAR/5 road``
    Both within 5 words of each other, in either order. Each side is one word, never a phrase,
    wildcard, field or group (for several words use a sloppy phrase, ``"road closure"~3``). The distance is 1 to 100
    (:data:`search.fields.MAX_DISTANCE`; versions are indexed further apart than that, so a match
    never joins two versions). ``w/5`` and ``near/5`` may be written in any case, as they cannot be
    mistaken for words; ``w/o`` therefore reads as a proximity without a number, so quote it to
    search for it. Chains such as ``a w/3 b w/3 c`` are refused as ambiguous: write
    ``(a w/3 b) AND (b w/3 c)``.

Fields
------

``platform:bluesky`` (mastodon, bluesky, facebook, instagram, x, youtube, rss),
``kind:post`` (post, comment, reply, media, profile, moderation),
``state:deleted`` (present, edited, deleted, hidden),
``reason:author_deleted`` (a :class:`archiver.model.DisappearanceReason`),
``has:media``, ``account:cityhall``, ``author:"City Hall"``, ``lang:id``, ``tag:banjir``
    Exact field values, folded like the indexed values (case and accents do not matter). The
    value follows the colon with no space, and may be quoted. ``tag:#banjir`` is ``tag:banjir``,
    ``account:@cityhall`` is ``account:cityhall``, and ``lang:pt-BR`` is ``lang:pt`` (the index
    keeps only the primary language). Field values take no wildcards. Field names may be written
    in any case; an unknown field is an error, so a stray ``note:`` in pasted text must be quoted.

Dates
-----

``date:[2024-01-01 TO 2024-12-31]``
    Posted within the range; both ends are inclusive whole days, in UTC. ``*`` leaves one end
    open (``date:[* TO 2024-06-30]``). An end may also be a month or a year:
    ``date:[2023 TO 2024-06]`` runs from 2023-01-01 to 2024-06-30.
``date:2024-05-01``, ``date:2024-05``, ``date:2024``
    One day, a whole month, a whole year.
``captured:[2024-01-01 TO *]``, ``captured:2024-05``
    The same, on the day a version was captured rather than posted.
``as-of:2024-05-01``
    Search the versions that were current on that day instead of every version. It applies to
    the whole query, so it appears at most once, outside parentheses, not under ``NOT`` and not
    joined by ``OR``. A query of only ``as-of:…`` matches everything as it stood on that day.

Limits
------

A query is at most 2,000 characters and 64 levels deep (each NOT, or AND inside an OR, is a
level; parentheses around a single item are not). The empty query matches everything.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import date
from typing import Any, cast

from lark import Lark, Token, Transformer
from lark.exceptions import LarkError, UnexpectedInput

from search.errors import QuerySyntaxError
from search.fields import MAX_DISTANCE
from search.query.ast import (
    And,
    DateRange,
    KeywordField,
    MatchAll,
    Near,
    Node,
    Not,
    Or,
    Phrase,
    Prefix,
    Query,
    Term,
    Wildcard,
)
from search.query.explain import explain
from search.query.values import (
    AS_OF,
    DATE_FIELDS,
    EXAMPLES,
    FIELD_NAMES,
    Problem,
    as_of_date,
    date_range,
    distance,
    is_number,
    keyword_value,
    period,
)

MAX_LENGTH = 2000
MAX_DEPTH = 64  # deep enough for any real query, shallow enough that no backend recursion overflows

# Higher priority wins when several terminals match at one position (lark's basic lexer tries them
# in priority order, not longest-first). Operators end at a word boundary, so ANDROID is a word.
GRAMMAR = r"""
start: or_expr

?or_expr: and_expr (OR and_expr)*
?and_expr: unary (AND? unary)*
?unary: NOT unary               -> negation
      | MINUS unary             -> negation
      | atom (PROX atom)+       -> near
      | atom
?atom: LPAR or_expr RPAR        -> group
     | WORD                     -> word
     | URL                      -> url
     | PHRASE                   -> phrase
     | FIELD_WORD               -> field
     | FIELD_PHRASE             -> field
     | FIELD_RANGE              -> field

URL.6: /(?i:https?):\/\/[^\s)]+/
FIELD_RANGE.5: /[^\W\d_][\w-]*:\[[^\]]*\]?/
FIELD_PHRASE.5: /[^\W\d_][\w-]*:"(?:[^"\\]|\\.)*"/s
FIELD_WORD.4: /[^\W\d_][\w-]*:[^\s()"]*/
PROX.3: /(?i:w|near)\/[^\s()"]*|NEAR(?![^\s()"])/
AND.3: /(?:AND|&&)(?![^\s()"])/
OR.3: /(?:OR|\|\|)(?![^\s()"])/
NOT.3: /NOT(?![^\s()"])/
PHRASE.2: /=?"(?:[^"\\]|\\.)*"(?:~[^\s()"]*)?/s
MINUS.2: /-(?=[^\s)])/
WORD.1: /[^\s()"\-][^\s()"]*/
LPAR: "("
RPAR: ")"
WS: /\s+/
%ignore WS
"""

_URL = re.compile(r"https?://", re.IGNORECASE)
_PHRASE = re.compile(r'(=?)"((?:[^"\\]|\\.)*)"(?:~(.*))?', re.DOTALL)
_ESCAPE = re.compile(r'\\(["\\])')


@dataclass(frozen=True, slots=True)
class _Part:
    """A parsed piece of the query while the tree is built bottom-up.

    ``node`` is ``None`` for a piece that is only ``as-of:``; ``as_of`` carries every ``as-of``
    (date, position) found below, so placement rules can be checked where the piece is used.
    """

    node: Node | None
    start: int
    depth: int = 1
    as_of: tuple[tuple[date, int], ...] = ()


def parse_query(text: str) -> Query:
    """Parse query text into a :class:`Query`; see the module docstring for the language.

    Raises :class:`QuerySyntaxError` with the 0-based position of the problem for any text that is
    not a valid query; never returns an empty result for bad syntax.
    """
    if len(text) > MAX_LENGTH:
        # The full text would make the error message (which repeats the query) as large as the input.
        raise QuerySyntaxError(f"query too long (max {MAX_LENGTH:,} characters)", position=MAX_LENGTH,
                               query=text[:MAX_LENGTH] + "…")
    if not text.strip():
        return Query(MatchAll())
    try:
        part = cast(_Part, _parser().parse(text))  # what _Builder.start returns
    except Problem as problem:
        raise QuerySyntaxError(problem.message, position=problem.position, query=text) from None
    except UnexpectedInput as error:
        message, position = explain(error, text, _parser().lex)
        raise QuerySyntaxError(message, position=position, query=text) from None
    except LarkError:  # pragma: no cover - every lark failure above is an UnexpectedInput
        raise QuerySyntaxError("the query could not be read", position=0, query=text) from None
    return _finish(part, text)


@functools.cache
def _parser() -> Lark:
    """Built on first use (tens of milliseconds); every parse after that reuses it.

    The transformer runs inside the LALR parser as each rule is reduced, so no parse tree is built
    and nothing recurses: deeply nested input costs a list, not the Python stack.
    """
    return Lark(GRAMMAR, parser="lalr", lexer="basic", transformer=_Builder(), maybe_placeholders=False)


def _finish(part: _Part, text: str) -> Query:
    """Apply the whole-query rules: one ``as-of`` at most, and a positive root."""
    if len(part.as_of) > 1:
        raise QuerySyntaxError("as-of may appear only once", position=part.as_of[1][1], query=text)
    as_of = part.as_of[0][0] if part.as_of else None
    root = MatchAll() if part.node is None else _positive(part.node)
    return Query(root, as_of)


class _Builder(Transformer[Token, _Part]):
    """Turns each reduced grammar rule into a :class:`_Part`. Stateless: one instance serves every parse."""

    def start(self, children: list[_Part]) -> _Part:
        return children[0]

    def word(self, children: list[Token]) -> _Part:
        return _Part(_word(children[0]), _pos(children[0]))

    def url(self, children: list[Token]) -> _Part:
        return _Part(Term(str(children[0])), _pos(children[0]))

    def phrase(self, children: list[Token]) -> _Part:
        return _Part(_phrase(children[0]), _pos(children[0]))

    def field(self, children: list[Token]) -> _Part:
        return _field(children[0])

    def group(self, children: list[Any]) -> _Part:
        opening, inner = children[0], children[1]
        _refuse_as_of(inner, "put it outside the parentheses")
        return _Part(inner.node, _pos(opening), inner.depth)

    def negation(self, children: list[Any]) -> _Part:
        operator, inner = children[0], children[1]
        _refuse_as_of(inner, "it cannot be excluded with NOT or -")
        assert inner.node is not None  # _refuse_as_of passed, so the part has a condition
        return _deeper(Not(_positive(inner.node)), _pos(operator), _positive_depth(inner) + 1)

    def near(self, children: list[Any]) -> _Part:
        operands: list[_Part] = children[0::2]
        operators: list[Token] = children[1::2]
        nodes = [_proximity_operand(operand, operators[0]) for operand in operands]
        if len(operators) > 1:
            first, second = (str(operator) for operator in operators[:2])
            left, middle, right = (_show(node) for node in nodes[:3])
            raise Problem(f"proximity cannot be chained; chain proximity with AND: ({left} {first} {middle}) "
                           f"AND ({middle} {second} {right})", _pos(operators[1]))
        return _Part(Near(nodes[0], nodes[1], _distance(operators[0])), operands[0].start, 2)

    def and_expr(self, children: list[Any]) -> _Part:
        parts = [child for child in children if isinstance(child, _Part)]
        items: list[Node] = []
        for part in parts:
            if isinstance(part.node, And):
                items.extend(part.node.items)
            elif part.node is not None:
                items.append(part.node)
        node: Node | None = items[0] if len(items) == 1 else And(tuple(items)) if items else None
        return _deeper(node, parts[0].start, _and_depth(parts, len(items)),
                       tuple(found for part in parts for found in part.as_of))

    def or_expr(self, children: list[Any]) -> _Part:
        parts = [child for child in children if isinstance(child, _Part)]
        items: list[Node] = []
        for part in parts:
            if part.node is None:
                raise Problem("as-of applies to the whole query; join it to the rest with a space, not OR",
                               part.as_of[0][1])
            items.extend(part.node.items if isinstance(part.node, Or) else (_positive(part.node),))
        depth = max(_positive_depth(part) - isinstance(part.node, Or) for part in parts) + 1
        return _deeper(Or(tuple(items)), parts[0].start, depth, tuple(found for part in parts for found in part.as_of))


def _deeper(node: Node | None, start: int, depth: int, as_of: tuple[tuple[date, int], ...] = ()) -> _Part:
    """A part one level up, refused when the AST would be deep enough to strain a recursive backend."""
    if depth > MAX_DEPTH:
        raise Problem(f"query is nested too deeply (max {MAX_DEPTH} levels)", start)
    return _Part(node, start, depth, as_of)


def _and_depth(parts: list[_Part], items: int) -> int:
    """Flattened Ands add no level (their items move up into the new And); a lone item adds none."""
    if items < 2:
        return max(part.depth for part in parts)
    return max(part.depth - isinstance(part.node, And) for part in parts) + 1


def _positive_depth(part: _Part) -> int:
    """The depth of ``_positive(part.node)``: wrapping a lone Not in an And adds a level."""
    return part.depth + isinstance(part.node, Not)


def _refuse_as_of(part: _Part, advice: str) -> None:
    if part.as_of:
        raise Problem(f"as-of applies to the whole query; {advice}", part.as_of[0][1])


def _positive(node: Node) -> Node:
    """Give a purely negative condition something to subtract from.

    ``-spam`` alone, an OR branch or a NOT of only exclusions would match nothing in an engine
    that can only remove hits, so it becomes "everything except": ``And((MatchAll(), Not(…)))``.
    """
    if isinstance(node, Not):
        return And((MatchAll(), node))
    if isinstance(node, And) and all(isinstance(item, Not) for item in node.items):
        return And((MatchAll(), *node.items))
    return node


def _pos(token: Token) -> int:
    return token.start_pos or 0


# --- words and phrases ---------------------------------------------------------------------------


def _word(token: Token) -> Node:
    """Classify an unquoted word: exact, URL, prefix, wildcard or plain term."""
    raw, start = str(token), _pos(token)
    exact = raw.startswith("=")
    body, body_start = (raw[1:], start + 1) if exact else (raw, start)
    if not body:
        raise Problem("'=' needs a word right after it, e.g. =budget", start)
    if raw == "TO":
        raise Problem("TO is only used inside date ranges, e.g. date:[2024-01-01 TO 2024-12-31]; "
                       "write 'to' to search for the word", start)
    if _URL.match(body):
        return Term(body, exact)
    if "~" in body:
        raise Problem('fuzzy matching is not supported; ~N only follows a quoted phrase, e.g. "road closure"~3',
                       body_start + body.index("~"))
    if not any(char.isalnum() for char in body):
        raise Problem(_no_letters(body), start)
    if "*" in body or "?" in body:
        return _wildcard(body, body_start)
    return Term(body, exact)


def _no_letters(body: str) -> str:
    """Point a stray symbol at the operator the user probably meant."""
    if set(body) <= {"&"}:
        return f"'{body}' is not an operator; use AND or && (with spaces around it)"
    if set(body) <= {"|"}:
        return f"'{body}' is not an operator; use OR or || (with spaces around it)"
    return f"'{body}' has no letters or digits to search for; remove it or put it in quotes"


def _wildcard(body: str, start: int) -> Prefix | Wildcard:
    """``budg*`` is a prefix; any other ``*`` or ``?`` makes a wildcard pattern."""
    if body[0] in "*?":
        raise Problem(f"wildcards cannot start a word ('{body}'); begin with at least one letter", start)
    if body.endswith("*") and body.count("*") == 1 and "?" not in body:
        if len(body) < 3:
            raise Problem(f"prefix too short ('{body}'); put at least 2 characters before '*', e.g. budg*", start)
        return Prefix(body[:-1])
    return Wildcard(body)


def _phrase(token: Token) -> Term | Phrase:
    """A quoted phrase with optional ``=`` (exact) and ``~N`` (slop); one word is just a term."""
    match = _PHRASE.fullmatch(str(token))
    assert match is not None  # the PHRASE terminal has the same shape
    start = _pos(token)
    words = _unescape(match[2]).split()
    if not words:
        raise Problem("empty quotes; put words between them or remove them", start)
    slop = 0 if match[3] is None else _slop(match[3], start + match.start(3) - 1)
    if len(words) == 1:
        return Term(words[0], exact=bool(match[1]))
    return Phrase(tuple(words), slop, exact=bool(match[1]))


def _slop(text: str, start: int) -> int:
    if not is_number(text):
        raise Problem('~ after a phrase needs a number of words, e.g. "road closure"~3', start)
    if len(text) > 6 or int(text) > MAX_DISTANCE:
        raise Problem(f"~{text} is too wide; a phrase allows at most {MAX_DISTANCE} words in between", start)
    return int(text)


def _unescape(text: str) -> str:
    return _ESCAPE.sub(r"\1", text)


# --- proximity -----------------------------------------------------------------------------------


def _proximity_operand(part: _Part, operator: Token) -> Term:
    _refuse_as_of(part, f"it cannot be an operand of {operator}")
    if isinstance(part.node, Phrase):
        raise Problem(f"{operator} joins single words; for several words use a phrase with ~N, "
                       'e.g. "road closure"~3', part.start)
    if not isinstance(part.node, Term):
        raise Problem(f"{operator} needs a word on each side (not a wildcard, field or group), "
                       f"e.g. budget {operator} road", part.start)
    return part.node


def _distance(operator: Token) -> int:
    return distance(str(operator), _pos(operator))


def _show(node: Term | Phrase) -> str:
    """A proximity operand written back as query text, for the chaining advice."""
    text = node.text if isinstance(node, Term) else '"' + " ".join(node.words) + '"'
    return "=" + text if node.exact else text


# --- fields --------------------------------------------------------------------------------------


def _field(token: Token) -> _Part:
    """``name:value``, ``name:"value"`` or ``name:[… TO …]``."""
    raw, start = str(token), _pos(token)
    colon = raw.index(":")
    name, value, value_start = raw[:colon].lower(), raw[colon + 1:], start + colon + 1
    if name not in FIELD_NAMES:
        raise Problem(f"unknown field '{raw[:colon]}:'; fields are {', '.join(FIELD_NAMES)}", start)
    if token.type == "FIELD_RANGE":
        if name not in DATE_FIELDS:
            raise Problem(f"only date: and captured: take a range; use {EXAMPLES[name]}", value_start)
        return _Part(date_range(DATE_FIELDS[name], value, value_start), start)
    quoted = token.type == "FIELD_PHRASE"
    if quoted:
        value, value_start = " ".join(_unescape(value[1:-1]).split()), value_start + 1
    if not value:
        raise Problem(f"'{name}:' needs a value right after the colon, e.g. {EXAMPLES[name]}", value_start)
    if name == AS_OF:
        return _Part(None, start, as_of=((as_of_date(value, value_start), start),))
    if name in DATE_FIELDS:
        first, last = period(value, value_start, f"bad date '{value}'; use YYYY-MM-DD, YYYY-MM or YYYY")
        return _Part(DateRange(DATE_FIELDS[name], first, last), start)
    return _Part(keyword_value(KeywordField(name), value, value_start, quoted), start)
