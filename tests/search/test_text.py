"""Words, stems, queries and highlights (search/text.py): no database."""

from __future__ import annotations

import random

import pytest

from search import text
from search.text import (
    ENGLISH,
    NORWEGIAN,
    detect_language,
    highlight,
    parse_query,
    plain_text,
    stem,
    terms,
)


def test_norwegian_forms_of_a_word_share_a_stem():
    assert stem("innbyggere", NORWEGIAN) == stem("innbyggeren", NORWEGIAN) == "innbygger"
    assert stem("tjenestene", NORWEGIAN) == stem("tjenester", NORWEGIAN)


def test_stop_words_are_left_out_as_postgresql_leaves_them_out():
    assert stem("og", NORWEGIAN) is None
    assert stem("the", ENGLISH) is None
    assert terms("Innbyggeren og kommunen", NORWEGIAN) == "innbygger kommun"


def test_an_english_text_is_recognised_and_a_short_one_stays_norwegian():
    assert (
        detect_language("The assistant helps the citizens with their forms and services") == ENGLISH
    )
    assert detect_language("Assistenten hjelper innbyggerne med skjemaene") == NORWEGIAN
    assert detect_language("app") == NORWEGIAN


def test_a_query_reads_words_phrases_exclusions_and_or():
    query = parse_query('innbyggere "digital assistent" -skjema or app')
    assert len(query.clauses) == 2
    first, second = query.clauses
    assert first.words == ["innbyggere"]
    assert first.phrases == [["digital", "assistent"]]
    assert first.excluded == ["skjema"]
    assert second.words == ["app"]
    assert query.websearch(NORWEGIAN) == 'innbyggere "digital assistent" -skjema or app'
    assert query.fts5(NORWEGIAN) == (
        '(("innbygger" AND "digital assistent") NOT "skjem") OR ("app")'
    )


def test_operators_of_either_database_are_only_words_or_nothing():
    query = parse_query('a & b | !c <-> d:* (e) NEAR(f g) AND* "h')
    text = query.websearch(NORWEGIAN)
    for character in "&|!<>:*()":
        assert character not in text
    expression = query.fts5(NORWEGIAN)
    # Every word is a quoted string: FTS5 reads no operator from the input.
    assert "NEAR(" not in expression and "*" not in expression


def test_quotes_inside_words_cannot_break_out_of_an_fts5_string():
    # The unclosed quote opens a phrase of one word, "or": a word, not an operator.
    query = parse_query('"innbygger"" OR *')
    assert query.fts5(NORWEGIAN) == '("innbygg" AND "or")'


def test_a_query_of_only_stop_words_or_exclusions_has_nothing_to_find():
    assert parse_query("og i på").fts5(NORWEGIAN) is None
    assert parse_query("og i på").websearch(NORWEGIAN) is None
    assert parse_query("-skjema").clauses == []
    # "og -skjema" would be "everything without skjema" to PostgreSQL: left out.
    assert parse_query("og -skjema").websearch(NORWEGIAN) is None


def test_nul_and_long_queries_are_read_safely():
    assert parse_query("inn\x00bygger").clauses[0].words == ["inn", "bygger"]
    query = parse_query("ord " * 2500)
    assert sum(len(c.words) for c in query.clauses) == 16


def test_highlight_escapes_the_text_and_marks_only_matching_words():
    found = parse_query("innbyggere").stems(NORWEGIAN)
    html = highlight("<script>alert(1)</script> innbyggeren & <b>", found, NORWEGIAN)
    assert html == (
        "&lt;script&gt;alert(1)&lt;/script&gt; <mark>innbyggeren</mark> &amp; &lt;b&gt;"
    )


def test_a_snippet_is_a_window_around_the_first_match():
    text = "ord " * 200 + "innbyggeren " + "slutt " * 200
    html = highlight(text, {"innbygger"}, NORWEGIAN, snippet=True)
    assert "<mark>innbyggeren</mark>" in html
    assert html.startswith("… ") and html.endswith(" …")
    assert len(html) < 400


def test_plain_text_drops_markdown_syntax_and_raw_html():
    assert plain_text("# Tittel\n\n**Fet** [lenke](https://example.org) <b>x</b>") == (
        "Tittel\nFet lenke <b>x</b>"
    )


# Pieces of text, ordinary ones often, Markdown and HTML syntax, odd spaces and characters
# now and then: plain_text takes a short cut for prose, and must say what rendering says.
_PIECES = [
    *["ord", "innbygger", "Tjeneste", "æøå", "ÆØÅ", "2021", "1", "12", "e-post"],
    *[" ", "  ", "    ", "\n", "\n\n", " \n", "  \n"],
    *[
        ".",
        ",",
        ";",
        ":",
        "?",
        "!",
        "'",
        '"',
        "(",
        ")",
        "%",
        "/",
        "@",
        "+",
        "-",
        "–",
        "’",
        "«",
        "…",
    ],
    *["*", "_", "#", "`", "[", "]", "<", ">", "&", "\\", "|", "~", "=", "\t", "\r", "\xa0"],
    *["&amp;", "1.", "1)", "- ", "+ ", "---", "===", "\x00", "_x_", "\u2028", "\u0301", "²", "٣"],
    *["http://x.no", "<b>x</b>", "**fet**", "[lenke](https://example.org)", "# Tittel\n"],
]
_WEIGHTS = [30] * 9 + [20, 3, 2, 8, 4, 2, 2] + [3] * 19 + [0.5] * (len(_PIECES) - 35)


def test_plain_text_of_prose_is_what_rendering_the_markdown_gives():
    rng = random.Random(21)
    prose = 0
    for _ in range(4000):
        markdown = "".join(rng.choices(_PIECES, _WEIGHTS, k=rng.randint(0, 40)))
        prose += bool(text._PROSE_CHARACTERS.fullmatch(markdown)) and not text._BLOCK_START.search(
            markdown
        )
        assert plain_text(markdown) == text._rendered_text(markdown), repr(markdown)
    assert 1000 < prose < 3500  # both ways are compared


@pytest.mark.parametrize(
    "markdown",
    [
        "- punkt",
        "+ punkt",
        "12. punkt",
        "3) punkt",
        "    kode",
        "tekst\n---",
        "tekst\n===",
        "a & b &amp; c",
        "snake_case og *stjerne*",
    ],
)
def test_markdown_syntax_is_rendered_not_taken_as_prose(markdown, monkeypatch):
    rendered = []
    monkeypatch.setattr(text, "render_markdown", lambda m: rendered.append(m) or m)
    plain_text(markdown)
    assert rendered == [markdown]


def test_prose_is_not_rendered(monkeypatch):
    monkeypatch.setattr(text, "render_markdown", lambda m: pytest.fail(f"rendered {m!r}"))
    assert plain_text("  Innbyggere (og «brukere») bør få e-post: 2021.\n\n\nNeste 5 % ! ") == (
        "Innbyggere (og «brukere») bør få e-post: 2021.\nNeste 5 % !"
    )


@pytest.mark.parametrize(
    ("text_", "query", "language", "snippet", "expected"),
    [
        (
            'Innbyggerne "skal" finne <hjelp> & Innbyggeren\'s svar',
            "innbygger",
            NORWEGIAN,
            False,
            "Innbyggerne &quot;skal&quot; finne &lt;hjelp&gt; &amp; Innbyggeren&#x27;s svar",
        ),
        (
            "ord " * 30 + "Tjenesten «digital» " + "slutt " * 60,
            "tjeneste digitale",
            NORWEGIAN,
            True,
            "… "
            + "ord " * 19
            + "<mark>Tjenesten</mark> «<mark>digital</mark>» "
            + "slutt " * 26
            + "slutt …",
        ),
        (
            "The services' users & <b>service</b>",
            "service",
            ENGLISH,
            False,
            "The <mark>services</mark>&#x27; users &amp; &lt;b&gt;<mark>service</mark>&lt;/b&gt;",
        ),
        ("Ingen treff her, bare ord.", "og", NORWEGIAN, False, "Ingen treff her, bare ord."),
        (
            "kort tekst med innbygger",
            "innbygger",
            NORWEGIAN,
            True,
            "kort tekst med <mark>innbygger</mark>",
        ),
    ],
)
def test_highlights_of_a_fixed_corpus(text_, query, language, snippet, expected):
    found = parse_query(query).stems(language)
    assert highlight(text_, found, language, snippet=snippet) == expected
