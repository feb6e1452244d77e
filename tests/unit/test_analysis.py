"""Text analysis shared by both search backends: folding, tokens, languages, stems, query terms."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from search import analysis
from search.analysis import (
    Analyzed,
    Language,
    QueryTerms,
    analyze,
    declared_language,
    detect_language,
    fold,
    language_for,
    query_terms,
    stem,
    tokenize,
)

EN, ID = Language.ENGLISH, Language.INDONESIAN

# --- folding ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "folded"), [
    ("Café", "cafe"),
    ("CAFÉ naïve façade", "cafe naive facade"),
    ("İstanbul", "istanbul"),
    ("Straße", "strasse"),
    ("ＡＢＣ１２３", "abc123"),  # full-width
    ("ﬁle", "file"),  # ligature
    ("Ｂａｎｊｉｒ　＃ＪＡＫＡＲＴＡ", "banjir #jakarta"),
    ("ÅNGSTRÖM", "angstrom"),
    ("Москва", "москва"),
    ("don’t", "don't"),
    ("plain ascii", "plain ascii"),
])
def test_fold(text: str, folded: str) -> None:
    assert fold(text) == folded


def test_fold_keeps_marks_that_make_words() -> None:
    # Script-specific marks are not accents: dropping them would change the word.
    assert fold("हिन्दी") == "हिन्दी"
    assert fold("が") == "が"


# --- tokenizing ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "tokens"), [
    ("Jalan Merdeka ditutup", ["jalan", "merdeka", "ditutup"]),
    ("#BanjirJakarta hari ini", ["#banjirjakarta", "hari", "ini"]),
    ("cc @walikota@kota.example.go.id, terima kasih", ["cc", "@walikota@kota.example.go.id", "terima", "kasih"]),
    ("thanks @Walikota!", ["thanks", "@walikota"]),
    ("@cityhall.bsky.social posted", ["@cityhall.bsky.social", "posted"]),
    ("mail info@kota.go.id", ["mail", "info", "kota", "go", "id"]),  # an address, not a mention
    ("abc#tag", ["abc", "tag"]),
    ("see https://kota.go.id/info?id=7.", ["see", "https://kota.go.id/info?id=7"]),
    ("(HTTPS://Kota.go.id/A_b), then", ["https://kota.go.id/a_b", "then"]),
    ("link: http://x.example/a?b=c!?", ["link", "http://x.example/a?b=c"]),
    ("https:// alone", ["https", "alone"]),
    ("banjir🌊di jalan", ["banjir", "di", "jalan"]),
    ("🌊banjir🌊 ❤️ 👨‍👩‍👧 2️⃣", ["banjir", "2"]),
    ("e-mail", ["e", "mail"]),
    ("anak-anak", ["anak", "anak"]),
    ("snake_case", ["snake", "case"]),
    ("council's budget, don’t", ["council's", "budget", "don't"]),
    ("'quoted' words'", ["quoted", "words"]),
    ("Rp 2.500.000 in 2024", ["rp", "2", "500", "000", "in", "2024"]),
    ("东京2024 Москва हिन्दी 한국어", ["东", "京", "2024", "москва", "हिन्दी", "한국어"]),
    ("#東京 Tokyo", ["#東京", "tokyo"]),
    ("pe\u00admerintah", ["pemerintah"]),  # a soft hyphen does not split a word
    ("", []),
    ("  \t\n ", []),
    ("— … !!!", []),
])
def test_tokenize(text: str, tokens: list[str]) -> None:
    assert tokenize(text) == tokens


def test_tokens_are_folded() -> None:
    assert tokenize("CAFÉ Café café") == ["cafe", "cafe", "cafe"]


@given(st.text(alphabet=st.characters(max_codepoint=127)))
def test_ascii_fast_path_matches_general_path(text: str) -> None:
    assert tokenize(text) == analysis._tokenize_chunks(text)


@given(st.text())
def test_tokens_never_contain_whitespace_and_are_fold_stable(text: str) -> None:
    for token in tokenize(text):
        assert token
        assert not any(c.isspace() for c in token)


# --- stemming --------------------------------------------------------------------------------------


def test_english_stems() -> None:
    assert stem("budgets", EN) == stem("budgeting", EN) == stem("budget", EN)
    assert stem("closures", EN) == stem("closure", EN)
    assert stem("council's", EN) == stem("council", EN)
    assert stem("flooding", EN) == stem("floods", EN)


@pytest.mark.parametrize(("word", "root"), [
    ("memperbaiki", "baik"),
    ("diperbaiki", "baik"),
    ("perbaikan", "baik"),
    ("pemerintahan", "perintah"),
    ("kesabaran", "sabar"),
    ("dibuka", "buka"),
    ("ditutup", "tutup"),
    ("jalan", "jalan"),
])
def test_indonesian_stems(word: str, root: str) -> None:
    assert stem(word, ID) == root


@pytest.mark.parametrize("token", ["#banjir", "@walikota@kota.example.go.id", "https://kota.go.id/berita",
                                   "2024", "covid19", "h1n1"])
@pytest.mark.parametrize("language", list(Language))
def test_names_and_numbers_are_not_stemmed(token: str, language: Language) -> None:
    assert stem(token, language) == token


def test_indonesian_stemmer_leaves_what_it_cannot_read() -> None:
    # Sastrawi drops non-ASCII letters and apostrophes; such tokens must come back whole.
    assert stem("москва", ID) == "москва"
    assert stem("jum'at", ID) == "jum'at"
    assert stem("东", ID) == "东"


def test_memos_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(analysis, "STEM_MEMO_LIMIT", 3)
    monkeypatch.setattr(analysis, "CHUNK_MEMO_LIMIT", 3)
    stems, chunks = analysis._StemMemo(EN), analysis._ChunkMemo()
    for word in ("budgets", "closures", "floods", "councils", "permits"):
        stems[word]
        chunks[word.upper() + "!"]
    assert len(stems) <= 3 and len(chunks) <= 3
    assert stems["budgets"] == "budget"
    assert chunks["BUDGETS!"] == ("budgets",)


# --- language --------------------------------------------------------------------------------------


def test_detect_language() -> None:
    assert detect_language("The road is closed for repairs and the bridge is open") is EN
    assert detect_language("Jalan ditutup untuk perbaikan dan jembatan yang di dekat pasar dibuka") is ID
    assert detect_language("Jalan Merdeka ditutup!") is EN  # no function words: a tie, English
    assert detect_language("") is EN


@pytest.mark.parametrize(("tag", "language"), [
    ("en", EN), ("en-US", EN), ("EN_gb", EN), ("eng", EN),
    ("id", ID), ("id-ID", ID), ("in", ID), ("in-ID", ID), ("ind", ID),
    ("inh", None), ("ms", None), ("", None), (None, None), ("english", None),
])
def test_declared_language(tag: str | None, language: Language | None) -> None:
    assert declared_language(tag) is language


def test_declared_language_takes_precedence() -> None:
    indonesian = "Petugas sedang memperbaiki pipa air di jalan utama dan jembatan yang rusak"
    english = "The crews are repairing the water main and the bridge on main street"
    assert language_for(None, indonesian) is ID
    assert language_for("en-US", indonesian) is EN
    assert language_for("id-ID", english) is ID
    assert language_for("in", english) is ID
    assert language_for("fr", english) is EN  # not a language we stem: detected


# --- analyze ---------------------------------------------------------------------------------------


def test_analyze_aligns_exact_and_stems() -> None:
    result = analyze("Petugas sedang memperbaiki pipa air di jalan utama #BanjirJakarta 2024", None)
    assert isinstance(result, Analyzed)
    assert result.language is ID
    assert result.exact == ["petugas", "sedang", "memperbaiki", "pipa", "air", "di", "jalan", "utama",
                            "#banjirjakarta", "2024"]
    assert result.stems == ["tugas", "sedang", "baik", "pipa", "air", "di", "jalan", "utama",
                            "#banjirjakarta", "2024"]


def test_analyze_uses_declared_language() -> None:
    english = analyze("The council is reviewing budgets for road closures", "en")
    assert english.language is EN
    assert english.stems[english.exact.index("budgets")] == "budget"
    indonesian = analyze("The council is reviewing budgets", "id-ID")
    assert indonesian.language is ID
    assert indonesian.stems[indonesian.exact.index("budgets")] == stem("budgets", ID)


# --- query terms -----------------------------------------------------------------------------------


def test_query_terms_offer_both_languages() -> None:
    assert query_terms("Memperbaiki") == QueryTerms(exact=("memperbaiki",), stems=(("memperbaiki", "baik"),))
    assert query_terms("budget") == QueryTerms(exact=("budget",), stems=(("budget",),))
    assert query_terms("memperbaiki", ID) == QueryTerms(exact=("memperbaiki",), stems=(("baik",),))


def test_query_terms_of_a_split_word_is_a_phrase() -> None:
    terms = query_terms("e-mail")
    assert terms.exact == ("e", "mail")
    assert len(terms.stems) == 2


def test_query_terms_of_symbols_is_empty() -> None:
    assert query_terms("🌊") == QueryTerms(exact=(), stems=())


@pytest.mark.parametrize(("query", "text", "lang"), [
    ("diperbaiki", "Petugas sedang memperbaiki pipa air di jalan utama", None),
    ("perbaikan", "Petugas sedang memperbaiki pipa air di jalan utama", None),
    ("pemerintahan", "Pemerintah kota mengumumkan anggaran baru", "id"),
    ("budgeting", "The council will meet to discuss the budgets", None),
    ("closure", "Road closures on main street for the repairs", None),
    ("Closures", "the road closure", "en"),
])
def test_query_terms_share_a_stem_with_indexed_forms(query: str, text: str, lang: str | None) -> None:
    indexed = set(analyze(text, lang).stems)
    (alternatives,) = query_terms(query).stems
    assert indexed.intersection(alternatives)


# --- properties ------------------------------------------------------------------------------------


@settings(max_examples=300)
@given(st.text(), st.one_of(st.none(), st.sampled_from(["en", "id-ID", "in", "fr", ""]), st.text(max_size=8)))
def test_analyze_never_raises_and_aligns(text: str, lang: str | None) -> None:
    result = analyze(text, lang)
    assert len(result.exact) == len(result.stems)
    assert all(result.stems)
    assert result.exact == tokenize(text)


@given(st.text())
def test_fold_is_idempotent(text: str) -> None:
    assert fold(fold(text)) == fold(text)


@given(st.text())
def test_query_terms_never_raise_and_align(word: str) -> None:
    terms = query_terms(word)
    assert len(terms.exact) == len(terms.stems)
    assert all(options and len(set(options)) == len(options) for options in terms.stems)


@given(st.text())
def test_a_token_analyses_to_itself(text: str) -> None:
    # An indexed token typed back as a query word must find itself.
    for token in tokenize(text):
        assert tokenize(token) == [token]


@given(st.lists(st.sampled_from(["jalan", "ditutup", "the", "budgets", "#banjir", "e-mail", "🌊", "Café",
                                 "https://x.example/a.", "@a@b.c", "東京", "2024", "don't"]), max_size=12))
def test_tokens_of_a_text_are_the_tokens_of_its_words(words: list[str]) -> None:
    # Whitespace always separates tokens, so a text analyses as its words do one by one; this is
    # what lets a query word, analysed alone, find the same word inside an indexed text.
    assert tokenize(" ".join(words)) == [token for word in words for token in tokenize(word)]
