"""The query language parser: every construct, precedence, error messages and positions, hostile input."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archiver.model import DisappearanceReason
from search.errors import QuerySyntaxError
from search.fields import MAX_DISTANCE
from search.query.ast import (
    And,
    DateField,
    DateRange,
    Keyword,
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
from search.query.parser import MAX_DEPTH, MAX_LENGTH, parse_query
from tests.support.search_corpus import EXPECTED


def root(text: str) -> Node:
    return parse_query(text).root


def syntax_error(text: str) -> QuerySyntaxError:
    with pytest.raises(QuerySyntaxError) as caught:
        parse_query(text)
    return caught.value


def everything_except(*excluded: Node) -> And:
    return And((MatchAll(), *(Not(item) for item in excluded)))


T = Term


# --- words --------------------------------------------------------------------------------------


def test_a_bare_word_is_a_term_as_typed() -> None:
    assert parse_query("Budget") == Query(Term("Budget"))


@pytest.mark.parametrize("word", ["anggaran", "ميزانية", "बजट", "预算", "Straße", "café", "2024", "covid19"])
def test_words_of_any_script_and_digits_are_terms(word: str) -> None:
    assert root(word) == Term(word)


@pytest.mark.parametrize("word", ["e-mail", "u.s.", "don't", "snake_case", "10:30", "AT&T"])
def test_inner_punctuation_stays_inside_one_word(word: str) -> None:
    assert root(word) == Term(word)


def test_hashtags_and_handles_are_single_terms() -> None:
    assert root("#banjir") == Term("#banjir")
    assert root("@walikota") == Term("@walikota")
    assert root("@walikota@kota.example.go.id") == Term("@walikota@kota.example.go.id")


def test_an_unquoted_url_is_one_term_and_its_question_mark_is_no_wildcard() -> None:
    assert root("https://x.example/a?b=1&c=*") == Term("https://x.example/a?b=1&c=*")
    assert root("HTTP://x.example/") == Term("HTTP://x.example/")


def test_an_unquoted_url_ends_at_a_closing_parenthesis() -> None:
    assert root("(flood OR https://x.example/a)") == Or((Term("flood"), Term("https://x.example/a")))


def test_equals_sign_asks_for_the_exact_unstemmed_form() -> None:
    assert root("=budget") == Term("budget", exact=True)
    assert root("=https://x.example/a?b") == Term("https://x.example/a?b", exact=True)


# --- phrases ------------------------------------------------------------------------------------


def test_quoted_words_are_a_phrase() -> None:
    assert root('"road closure"') == Phrase(("road", "closure"))


def test_a_phrase_of_one_word_is_a_term() -> None:
    assert root('"road"') == Term("road")
    assert root('="road"') == Term("road", exact=True)


def test_phrase_slop_follows_a_tilde() -> None:
    assert root('"road closure"~3') == Phrase(("road", "closure"), slop=3)


def test_equals_before_quotes_makes_an_exact_phrase() -> None:
    assert root('="road closure"') == Phrase(("road", "closure"), exact=True)
    assert root('="road closure"~2') == Phrase(("road", "closure"), slop=2, exact=True)


def test_operators_and_wildcards_inside_quotes_are_literal_words() -> None:
    assert root('"budg* AND NOT w/5"') == Phrase(("budg*", "AND", "NOT", "w/5"))


def test_escaped_quotes_and_backslashes_inside_a_phrase() -> None:
    assert root(r'"the \"big\" road"') == Phrase(("the", '"big"', "road"))
    assert root(r'"a\\ b"') == Phrase(("a\\", "b"))


def test_phrase_words_are_split_on_any_whitespace() -> None:
    assert root('"road\t closure\u00a0now"') == Phrase(("road", "closure", "now"))


# --- boolean ------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["budget road", "budget AND road", "budget && road", "budget\n\troad"])
def test_adjacent_items_and_explicit_and_mean_the_same(text: str) -> None:
    assert root(text) == And((Term("budget"), Term("road")))


@pytest.mark.parametrize("text", ["budget OR road", "budget || road"])
def test_or_and_its_symbol(text: str) -> None:
    assert root(text) == Or((Term("budget"), Term("road")))


def test_and_binds_tighter_than_or() -> None:
    assert root("a b OR c") == Or((And((T("a"), T("b"))), T("c")))
    assert root("a OR b AND c") == Or((T("a"), And((T("b"), T("c")))))


def test_not_binds_tighter_than_and() -> None:
    assert root("road NOT closure") == And((T("road"), Not(T("closure"))))
    assert root("NOT a b") == And((Not(T("a")), T("b")))


def test_parentheses_override_precedence() -> None:
    assert root("(road OR bridge) AND NOT budget") == And((Or((T("road"), T("bridge"))), Not(T("budget"))))
    assert root("a (b OR c)") == And((T("a"), Or((T("b"), T("c")))))


def test_nested_ands_and_ors_are_flattened() -> None:
    assert root("a AND (b AND (c d))") == And((T("a"), T("b"), T("c"), T("d")))
    assert root("a OR (b OR (c || d))") == Or((T("a"), T("b"), T("c"), T("d")))
    assert root("(a OR b) OR c") == Or((T("a"), T("b"), T("c")))


def test_different_operators_are_not_flattened_into_each_other() -> None:
    assert root("(a OR b) (c OR d)") == And((Or((T("a"), T("b"))), Or((T("c"), T("d")))))


def test_minus_excludes_a_term_phrase_group_or_field() -> None:
    assert root("road -closure") == And((T("road"), Not(T("closure"))))
    assert root('road -"road closure"') == And((T("road"), Not(Phrase(("road", "closure")))))
    assert root("road -(a OR b)") == And((T("road"), Not(Or((T("a"), T("b"))))))
    assert root("road -platform:x") == And((T("road"), Not(Keyword(KeywordField.PLATFORM, "x"))))


def test_not_may_touch_a_group_or_phrase() -> None:
    assert root("a NOT(b)") == And((T("a"), Not(T("b"))))
    assert root('a NOT"b c"') == And((T("a"), Not(Phrase(("b", "c")))))


@pytest.mark.parametrize("text", ["-spam", "NOT spam", "(-spam)"])
def test_a_query_of_only_exclusions_means_everything_except(text: str) -> None:
    assert root(text) == everything_except(T("spam"))


def test_several_exclusions_share_one_match_all() -> None:
    assert root("-spam NOT eggs") == everything_except(T("spam"), T("eggs"))


def test_an_or_branch_of_only_exclusions_also_gets_match_all() -> None:
    assert root("road OR -spam") == Or((T("road"), everything_except(T("spam"))))


def test_double_negation_keeps_every_level_positive() -> None:
    assert root("NOT NOT a") == And((MatchAll(), Not(everything_except(T("a")))))


def test_an_exclusion_next_to_a_positive_item_needs_no_match_all() -> None:
    assert root("a (-b)") == And((T("a"), Not(T("b"))))


@pytest.mark.parametrize("text", ["and", "or", "not", "Not", "near", "to"])
def test_lowercase_operator_words_are_ordinary_terms(text: str) -> None:
    assert root(text) == Term(text)


def test_operator_words_only_count_as_whole_words() -> None:
    words = "ANDROID ORACLE NOTE NEARBY TOKYO"
    assert root(words) == And(tuple(T(word) for word in words.split()))


def test_a_hyphen_inside_or_at_the_end_of_a_word_is_not_an_exclusion() -> None:
    assert root("budget-road a-") == And((T("budget-road"), T("a-")))


# --- proximity ----------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["budget w/5 road", "budget W/5 road", "budget NEAR/5 road", "budget near/5 road"])
def test_proximity_operators(text: str) -> None:
    assert root(text) == Near(T("budget"), T("road"), 5)


def test_proximity_operands_are_single_words_exact_or_not() -> None:
    assert root('council w/10 =budget') == Near(T("council"), T("budget", exact=True), 10)
    assert root('"council" w/10 budget') == Near(T("council"), T("budget"), 10)
    error = syntax_error('"city council" w/10 budget')
    assert "joins single words" in error.reason and error.position == 0


def test_proximity_binds_tighter_than_not_and_and() -> None:
    assert root("NOT a w/3 b c") == And((Not(Near(T("a"), T("b"), 3)), T("c")))
    assert root("-a w/3 b") == everything_except(Near(T("a"), T("b"), 3))


def test_proximity_distance_limits() -> None:
    assert root(f"a w/{MAX_DISTANCE} b") == Near(T("a"), T("b"), MAX_DISTANCE)
    assert root("a w/1 b") == Near(T("a"), T("b"), 1)
    assert "between 1 and" in syntax_error("a w/0 b").reason
    assert "between 1 and" in syntax_error(f"a w/{MAX_DISTANCE + 1} b").reason
    assert "between 1 and" in syntax_error("a w/99999999999999999999 b").reason


def test_chained_proximity_is_refused_with_advice_to_use_and() -> None:
    error = syntax_error("a w/3 b w/3 c")
    assert error.reason == "proximity cannot be chained; chain proximity with AND: (a w/3 b) AND (b w/3 c)"
    assert error.position == 8


@pytest.mark.parametrize(("text", "message"), [
    ("a w/ b", "w/N needs a number, e.g. budget w/5 road"),
    ("a W/x b", "W/N needs a number, e.g. budget W/5 road"),
    ("a NEAR/ b", "NEAR/N needs a number, e.g. budget NEAR/5 road"),
    ("a NEAR b", "NEAR needs a distance, e.g. budget NEAR/5 road"),
    ("a w/² b", "w/N needs a number, e.g. budget w/5 road"),
])
def test_proximity_without_a_number_says_how_to_write_it(text: str, message: str) -> None:
    error = syntax_error(text)
    assert error.reason.startswith(message)
    assert error.position == 2


def test_w_slash_o_is_read_as_proximity_and_the_error_says_to_quote_it() -> None:
    error = syntax_error("with w/o support")
    assert error.reason.startswith("w/N needs a number") and "quotes" in error.reason
    assert root('with "w/o" support') == And((T("with"), T("w/o"), T("support")))


@pytest.mark.parametrize("text", ["budg* w/3 road", "road w/3 platform:x", "(a OR b) w/3 c", "a w/3 (b c)"])
def test_proximity_needs_a_word_on_each_side(text: str) -> None:
    assert "needs a word on each side" in syntax_error(text).reason


def test_a_parenthesised_single_word_is_still_a_word_for_proximity() -> None:
    assert root("(a) w/3 b") == Near(T("a"), T("b"), 3)


# --- prefix and wildcards -----------------------------------------------------------------------


def test_trailing_star_is_a_prefix() -> None:
    assert root("budg*") == Prefix("budg")
    assert root("bu*") == Prefix("bu")
    assert root("=budg*") == Prefix("budg")  # prefixes always match the exact form


def test_a_prefix_needs_two_characters() -> None:
    error = syntax_error("road b*")
    assert error.reason.startswith("prefix too short")
    assert error.position == 5


@pytest.mark.parametrize("pattern", ["wom?n", "b*get", "b?dget*", "bu**", "a?"])
def test_question_marks_and_inner_stars_make_wildcards(pattern: str) -> None:
    assert root(pattern) == Wildcard(pattern)


@pytest.mark.parametrize("text", ["*get", "?udget", "=*get"])
def test_wildcards_cannot_start_a_word(text: str) -> None:
    error = syntax_error(text)
    assert error.reason.startswith("wildcards cannot start a word")
    assert error.position == text.index(text.lstrip("="))


def test_fuzzy_tilde_on_a_word_is_refused() -> None:
    error = syntax_error("budget~2")
    assert "fuzzy" in error.reason
    assert error.position == 6


# --- keyword fields -----------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "field", "value"), [
    ("platform:bluesky", KeywordField.PLATFORM, "bluesky"),
    ("account:cityhall@social.example.gov", KeywordField.ACCOUNT, "cityhall@social.example.gov"),
    ("author:resident7", KeywordField.AUTHOR, "resident7"),
    ("kind:comment", KeywordField.KIND, "comment"),
    ("state:deleted", KeywordField.STATE, "deleted"),
    ("reason:author_deleted", KeywordField.REASON, "author_deleted"),
    ("lang:id", KeywordField.LANG, "id"),
    ("tag:banjir", KeywordField.TAG, "banjir"),
    ("has:media", KeywordField.HAS, "media"),
])
def test_every_keyword_field(text: str, field: KeywordField, value: str) -> None:
    assert root(text) == Keyword(field, value)


def test_keyword_values_and_field_names_are_case_insensitive() -> None:
    assert root("Platform:BlueSky") == Keyword(KeywordField.PLATFORM, "bluesky")
    assert root("AUTHOR:José") == Keyword(KeywordField.AUTHOR, "jose")  # folded like the indexed value


def test_a_quoted_field_value_may_contain_spaces() -> None:
    assert root('author:"City  Hall"') == Keyword(KeywordField.AUTHOR, "city hall")
    assert root('author:"A \\"B\\""') == Keyword(KeywordField.AUTHOR, 'a "b"')


def test_tag_value_loses_its_hash_and_handles_lose_their_at_sign() -> None:
    assert root("tag:#Banjir") == Keyword(KeywordField.TAG, "banjir")
    assert root("account:@CityHall") == Keyword(KeywordField.ACCOUNT, "cityhall")
    assert root("author:@kota") == Keyword(KeywordField.AUTHOR, "kota")


def test_lang_keeps_only_the_primary_language_as_the_index_does() -> None:
    assert root("lang:pt-BR") == Keyword(KeywordField.LANG, "pt")


def test_every_disappearance_reason_is_accepted() -> None:
    for reason in DisappearanceReason:
        assert root(f"reason:{reason.value}") == Keyword(KeywordField.REASON, reason.value)


@pytest.mark.parametrize(("text", "listed"), [
    ("kind:tweet", "post, comment, reply, media, profile, moderation"),
    ("state:gone", "present, edited, deleted, hidden"),
    ("has:video", "media"),
    ("platform:twitter", "mastodon, bluesky, facebook, instagram, x, youtube, rss"),
    ("reason:spam", "author_deleted, agency_removed"),
])
def test_closed_vocabularies_refuse_unknown_values_and_list_the_valid_ones(text: str, listed: str) -> None:
    error = syntax_error(text)
    assert listed in error.reason
    assert error.position == text.index(":") + 1


def test_an_unknown_field_lists_the_valid_fields() -> None:
    error = syntax_error("road foo:bar")
    assert error.reason.startswith("unknown field 'foo:'; fields are platform, account, author, kind, state, reason, "
                                   "lang, tag, has, date, captured, as-of")
    assert error.position == 5


@pytest.mark.parametrize("text", ["platform:", "platform: bluesky", 'author:""', "tag:#", "account:@"])
def test_a_field_needs_a_value_right_after_the_colon(text: str) -> None:
    error = syntax_error(text)
    assert "needs a value right after the colon" in error.reason


def test_field_values_take_no_wildcards() -> None:
    assert "no wildcards" in syntax_error("account:city*").reason


def test_a_bad_language_code_is_refused() -> None:
    assert "not a language code" in syntax_error("lang:english").reason


def test_only_date_fields_take_a_range() -> None:
    assert "only date: and captured: take a range" in syntax_error("tag:[a TO b]").reason


# --- dates --------------------------------------------------------------------------------------


def test_a_posted_date_range() -> None:
    assert root("date:[2024-01-01 TO 2024-12-31]") == DateRange(DateField.POSTED, date(2024, 1, 1), date(2024, 12, 31))


def test_a_captured_date_range() -> None:
    assert root("captured:[2024-06-01 TO 2024-06-01]") == DateRange(DateField.CAPTURED, date(2024, 6, 1),
                                                                    date(2024, 6, 1))


def test_a_star_leaves_one_end_of_a_range_open() -> None:
    assert root("date:[* TO 2024-06-30]") == DateRange(DateField.POSTED, None, date(2024, 6, 30))
    assert root("captured:[2025-02-01 TO *]") == DateRange(DateField.CAPTURED, date(2025, 2, 1), None)


def test_range_ends_may_be_months_or_years_covering_the_whole_period() -> None:
    assert root("date:[2023 TO 2024-02]") == DateRange(DateField.POSTED, date(2023, 1, 1), date(2024, 2, 29))


def test_lowercase_to_is_accepted_inside_a_range() -> None:
    assert root("date:[2024-01-01 to 2024-01-31]") == DateRange(DateField.POSTED, date(2024, 1, 1), date(2024, 1, 31))


def test_a_single_day_month_or_year() -> None:
    assert root("date:2024-05-01") == DateRange(DateField.POSTED, date(2024, 5, 1), date(2024, 5, 1))
    assert root("date:2024-02") == DateRange(DateField.POSTED, date(2024, 2, 1), date(2024, 2, 29))
    assert root("date:2023-02") == DateRange(DateField.POSTED, date(2023, 2, 1), date(2023, 2, 28))
    assert root("captured:2024-04") == DateRange(DateField.CAPTURED, date(2024, 4, 1), date(2024, 4, 30))
    assert root("date:2018") == DateRange(DateField.POSTED, date(2018, 1, 1), date(2018, 12, 31))
    assert root('date:"2024-05"') == DateRange(DateField.POSTED, date(2024, 5, 1), date(2024, 5, 31))


def test_a_bad_date_in_a_range_is_named_and_located() -> None:
    error = syntax_error("date:[2024-01-01 TO 2024-13-01]")
    assert error.reason == "bad date '2024-13-01' in date range; use YYYY-MM-DD"
    assert error.position == 20


@pytest.mark.parametrize("value", ["2024-13-01", "2024-02-30", "0000", "24-05-01", "2024/05/01", "yesterday", "*"])
def test_a_bad_single_date_is_refused(value: str) -> None:
    error = syntax_error(f"date:{value}")
    assert error.reason.startswith(f"bad date '{value}'; use YYYY-MM-DD")
    assert error.position == 5


def test_a_range_that_starts_after_it_ends_is_refused() -> None:
    error = syntax_error("date:[2024-12-31 TO 2024-01-01]")
    assert error.reason.startswith("date range starts after it ends")
    assert error.position == 6


@pytest.mark.parametrize(("text", "message", "position"), [
    ("date:[2024-01-01 TO 2024-12-31", "date range is missing its closing ']'", 5),
    ("(date:[2024-01-01 TO 2024-12-31)", "date range is missing its closing ']'", 6),
    ("date:[2024-01-01 2024-12-31]", "a date range looks like [2024-01-01 TO 2024-12-31]", 5),
    ("date:[2024-01-01 TO]", "a date range looks like [2024-01-01 TO 2024-12-31]", 5),
    ("date:[* TO *]", "a date range needs at least one date", 5),
])
def test_malformed_ranges(text: str, message: str, position: int) -> None:
    error = syntax_error(text)
    assert error.reason.startswith(message)
    assert error.position == position


# --- as-of --------------------------------------------------------------------------------------


def test_as_of_sets_the_query_date_and_leaves_the_rest() -> None:
    assert parse_query("budget as-of:2024-05-01") == Query(T("budget"), as_of=date(2024, 5, 1))
    assert parse_query("as-of:2024-05-01 budget road") == Query(And((T("budget"), T("road"))), date(2024, 5, 1))


def test_as_of_alone_matches_everything_on_that_day() -> None:
    assert parse_query("as-of:2024-05-01") == Query(MatchAll(), as_of=date(2024, 5, 1))


def test_as_of_beside_an_or_applies_to_the_whole_query() -> None:
    assert parse_query("as-of:2024-05-01 a OR b") == Query(Or((T("a"), T("b"))), as_of=date(2024, 5, 1))


def test_as_of_with_only_exclusions_still_means_everything_except() -> None:
    assert parse_query("-spam as-of:2025-01-01") == Query(everything_except(T("spam")), as_of=date(2025, 1, 1))


@pytest.mark.parametrize(("text", "message", "position"), [
    ("as-of:2024-01-01 road as-of:2024-02-01", "as-of may appear only once", 22),
    ("(road as-of:2024-01-01)", "as-of applies to the whole query; put it outside the parentheses", 6),
    ("NOT as-of:2024-01-01", "as-of applies to the whole query; it cannot be excluded", 4),
    ("-as-of:2024-01-01", "as-of applies to the whole query; it cannot be excluded", 1),
    ("as-of:2024-01-01 OR road", "as-of applies to the whole query; join it to the rest with a space, not OR", 0),
    ("road w/3 as-of:2024-01-01", "as-of applies to the whole query; it cannot be an operand of w/3", 9),
    ("as-of:2024", "as-of needs one full date", 6),
    ("as-of:2024-02-30", "bad date '2024-02-30'; use YYYY-MM-DD", 6),
    ("as-of:[2024-01-01 TO *]", "only date: and captured: take a range", 6),
])
def test_as_of_placement_and_value_errors(text: str, message: str, position: int) -> None:
    error = syntax_error(text)
    assert error.reason.startswith(message)
    assert error.position == position


# --- empty and the corpus -------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", " ", "\t\n", "\u00a0\u2003"])
def test_an_empty_query_matches_everything(text: str) -> None:
    assert parse_query(text) == Query(MatchAll())


@pytest.mark.parametrize("text", sorted(EXPECTED))
def test_every_conformance_corpus_query_parses(text: str) -> None:
    assert isinstance(parse_query(text), Query)


# --- syntax errors: message and position --------------------------------------------------------


@pytest.mark.parametrize(("text", "message", "position"), [
    ("(budget road", "unbalanced parenthesis: this '(' is never closed", 0),
    ("a (b (c) d", "unbalanced parenthesis: this '(' is never closed", 2),
    ("budget road)", "unbalanced parenthesis: this ')' has no matching '('", 11),
    ("a) (b", "unbalanced parenthesis: this ')' has no matching '('", 1),
    ("()", "empty parentheses", 0),
    ("budget AND", "expected a term after AND", 10),
    ("budget AND   ", "expected a term after AND", 10),
    ("budget &&", "expected a term after &&", 9),
    ("budget OR", "expected a term after OR", 9),
    ("(budget OR)", "expected a term after OR", 10),
    ("a AND OR b", "expected a term after AND", 6),
    ("NOT", "expected a term after NOT", 3),
    ("a NOT AND b", "expected a term after NOT", 6),
    ("-AND", "expected a term after '-'", 1),
    ("AND budget", "expected a term before AND", 0),
    ("(OR b)", "expected a term before OR", 1),
    ("a w/3", "expected a word or phrase after w/3", 5),
    ("a w/3 NOT b", "expected a word or phrase after w/3", 6),
    ("w/3 a", "expected a word or phrase before w/3", 0),
    ("w/o", "w/N needs a number, e.g. budget w/5 road", 0),
    ("without w/o", "w/N needs a number, e.g. budget w/5 road", 8),
    ('"road closure', 'unterminated quote', 0),
    ('budget "road closure', 'unterminated quote', 7),
    ('"a" "b', 'unterminated quote', 4),
    ('author:"City Hall', 'unterminated quote', 7),
    ('"a \\"', 'unterminated quote', 0),
    ('=', "'=' needs a word right after it", 0),
    ('""', "empty quotes", 0),
    ('"road closure"~', '~ after a phrase needs a number of words', 14),
    ('"road closure"~x', '~ after a phrase needs a number of words', 14),
    (f'"road closure"~{MAX_DISTANCE + 1}', f"~{MAX_DISTANCE + 1} is too wide", 14),
    ("budget -", "'-' excludes what follows it and must touch it", 7),
    ("budget - road", "'-' excludes what follows it and must touch it", 7),
    ("(a -)", "'-' excludes what follows it and must touch it", 3),
    ("a TO b", "TO is only used inside date ranges", 2),
    ("road & bridge", "'&' is not an operator; use AND or &&", 5),
    ("road | bridge", "'|' is not an operator; use OR or ||", 5),
    ("road , bridge", "',' has no letters or digits to search for", 5),
    ("🌊", "'🌊' has no letters or digits to search for", 0),
])
def test_syntax_errors_say_what_is_wrong_and_where(text: str, message: str, position: int) -> None:
    error = syntax_error(text)
    assert error.reason.startswith(message), error.reason
    assert error.position == position
    assert error.code == "query_syntax"


def test_the_error_message_points_at_the_problem() -> None:
    error = syntax_error("budget AND")
    assert str(error) == "query syntax error at position 11: expected a term after AND, found the end of the query\n" \
                         "budget AND\n" \
                         "          ^"


def test_errors_are_never_chained_to_lark_exceptions() -> None:
    error = syntax_error("(budget")
    assert error.__cause__ is None and error.__suppress_context__


# --- hostile input ------------------------------------------------------------------------------


def test_a_huge_query_is_refused_before_parsing_with_a_short_message() -> None:
    error = syntax_error("budget " * 15_000)  # about 100 KB
    assert error.reason == "query too long (max 2,000 characters)"
    assert error.position == MAX_LENGTH
    assert len(str(error)) < 2 * MAX_LENGTH + 200


def test_a_query_of_exactly_the_maximum_length_parses() -> None:
    text = ("ab " * MAX_LENGTH)[:MAX_LENGTH]
    parsed = parse_query(text).root
    assert isinstance(parsed, And) and len(parsed.items) == 667
    assert syntax_error(text + "c").position == MAX_LENGTH


def test_five_hundred_nested_parentheses_around_one_word_parse() -> None:
    assert root("(" * 500 + "budget" + ")" * 500) == T("budget")


def test_five_hundred_nested_groups_of_the_same_operator_flatten_into_one() -> None:
    text = "(a" * 500 + " b" + ")" * 500
    assert root(text) == And((T("a"),) * 500 + (T("b"),))


def test_deeply_alternating_groups_give_a_clear_error_not_a_recursion_error() -> None:
    text = "(a OR (b " * 110 + "c" + ")" * 220  # 220 levels of parentheses, 440 of AST
    assert len(text) <= MAX_LENGTH
    error = syntax_error(text)
    assert error.reason == f"query is nested too deeply (max {MAX_DEPTH} levels)"
    assert 0 < error.position < len(text)


def test_a_thousand_exclusions_give_a_clear_error() -> None:
    assert syntax_error("-" * 1000 + "a").reason == f"query is nested too deeply (max {MAX_DEPTH} levels)"


def test_a_few_nested_levels_are_fine() -> None:
    innermost = And((T("d"), Not(Or((T("e"), T("f"))))))
    assert root("a OR (b (c OR (d -(e OR f))))") == Or((T("a"), And((T("b"), Or((T("c"), innermost))))))


def test_control_characters_and_nul_are_words_or_errors_never_crashes() -> None:
    assert root("a\x00b") == T("a\x00b")
    assert "no letters or digits" in syntax_error("\x00").reason


# --- properties ---------------------------------------------------------------------------------

PIECES = ["a", "Budget", "é", "AND", "OR", "NOT", "TO", "NEAR", "&&", "||", "-", "=", "(", ")", '"', "\\", "~", "~2",
          "*", "?", ":", "[", "]", "w/", "w/3", "NEAR/2", "#", "@", "http://x.example/?a", "date:", "as-of:2024-01-01",
          "date:[2024 TO *]", "tag:", "platform:x", "author:\"", "2024-02", " ", " ", "\n", "🌊", "0"]


def check_parses_or_reports(text: str) -> None:
    try:
        parsed = parse_query(text)
    except QuerySyntaxError as error:
        assert 0 <= error.position <= len(text)
        assert error.reason
    else:
        assert isinstance(parsed, Query)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_arbitrary_text_parses_or_raises_a_query_syntax_error(text: str) -> None:
    check_parses_or_reports(text)


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=20).map("".join))
def test_arbitrary_syntax_soup_parses_or_raises_a_query_syntax_error(text: str) -> None:
    check_parses_or_reports(text)
