"""Lark's lexer and grammar errors, explained in plain words at the right character.

Only the error path comes here: the tokens before the error are re-lexed to tell "expected a term
after AND" from "unbalanced parenthesis" from a mistyped ``w/N``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from lark import Token
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from search.query.values import Problem, distance

Lexer = Callable[[str], Iterator[Token]]
OPERATORS = {"AND", "OR", "NOT", "MINUS", "PROX"}


def _pos(token: Token) -> int:
    return token.start_pos or 0


def explain(error: UnexpectedInput, text: str, lex: Lexer) -> tuple[str, int]:
    """A human message and position for a lexer or grammar error."""
    if isinstance(error, UnexpectedCharacters):
        return _explain_character(text, error.pos_in_stream or 0)
    if isinstance(error, UnexpectedToken):
        return _explain_token(error.token, text, lex)
    return "the query ends too early", len(text.rstrip())  # pragma: no cover - LALR reports $END tokens


def _explain_character(text: str, position: int) -> tuple[str, int]:
    char = text[position]
    if char == '"':
        return 'unterminated quote; close the phrase with another "', position
    if char == "-":
        return "'-' excludes what follows it and must touch it, e.g. -spam", position
    return f"unexpected character {char!r}", position  # pragma: no cover - every other character lexes


def _explain_token(token: Token, text: str, lex: Lexer) -> tuple[str, int]:
    """Explain an out-of-place token from the one before it, or from the parentheses."""
    at_end = token.type == "$END"
    position = len(text.rstrip()) if at_end else _pos(token)
    before = _tokens_before(text, position, lex)
    previous = before[-1] if before else None
    shown = "the end of the query" if at_end else f"'{token}'"
    for operator in (previous, token):
        if operator is not None and operator.type == "PROX" and (problem := _distance_problem(operator)):
            return problem.message, problem.position
    if previous is not None and previous.type == "PROX":
        return f"expected a word or phrase after {previous}, found {shown}", position
    if previous is not None and previous.type in OPERATORS:
        return f"expected a term after {_name(previous)}, found {shown}", position
    if token.type == "RPAR":
        if previous is not None and previous.type == "LPAR":
            return "empty parentheses; put a term inside or remove them", _pos(previous)
        return "unbalanced parenthesis: this ')' has no matching '('", position
    if at_end:
        unclosed = _unclosed(before)
        if unclosed is not None:
            return "unbalanced parenthesis: this '(' is never closed", unclosed
    if token.type == "PROX":
        return f"expected a word or phrase before {token}", position
    if token.type in OPERATORS:
        return f"expected a term before {_name(token)}", position
    return f"unexpected {shown}", position  # pragma: no cover - the cases above cover the grammar


def _distance_problem(operator: Token) -> Problem | None:
    """A bad ``w/N`` is the likelier mistake than a misplaced one (``w/o`` typed as a word)."""
    try:
        distance(str(operator), _pos(operator))
    except Problem as problem:
        return problem
    return None


def _tokens_before(text: str, position: int, lex: Lexer) -> list[Token]:
    """Re-lex up to ``position`` (only on the error path) to see the tokens leading to the error."""
    tokens: list[Token] = []
    try:
        for token in lex(text):
            if _pos(token) >= position:
                break
            tokens.append(token)
    except UnexpectedCharacters:  # pragma: no cover - the parser would have reported it first
        pass
    return tokens


def _unclosed(tokens: list[Token]) -> int | None:
    """The position of the first '(' left open, if any."""
    opened: list[int] = []
    for token in tokens:
        if token.type == "LPAR":
            opened.append(_pos(token))
        elif token.type == "RPAR" and opened:
            opened.pop()
    return opened[0] if opened else None


def _name(token: Token) -> str:
    return "'-'" if token.type == "MINUS" else str(token)
