"""Words, stems, queries and highlights: the same on PostgreSQL and SQLite.

PostgreSQL indexes with its ``norwegian`` and ``english`` configurations
(Snowball stemmers and stop words). The embedded SQLite index gets the same
stems from the same Snowball algorithms (``snowballstemmer``) and the same stop
words (search/stopwords.py), so both databases find the same items. A query is
read here once, websearch-style (words, "phrases", -excluded, or), into a
``ParsedQuery``; PostgreSQL gets it back as a clean websearch string, SQLite as
an FTS5 expression in which every word is a quoted string, so no input can be
read as operator syntax by either.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from functools import lru_cache
from html.parser import HTMLParser

import snowballstemmer
from django.utils.safestring import SafeString, mark_safe

from search import stopwords
from studies.markdown import render_markdown

NORWEGIAN = "norwegian"
ENGLISH = "english"
LANGUAGES = (NORWEGIAN, ENGLISH)
_STOP = {NORWEGIAN: stopwords.NORWEGIAN, ENGLISH: stopwords.ENGLISH}

# Letters and digits, as PostgreSQL's parser reads words (it splits on "_" too).
WORD = re.compile(r"[^\W_]+")
QUERY_MAX_LENGTH = 200
QUERY_MAX_TERMS = 16
# PostgreSQL's parser ignores words longer than this; so does the SQLite index.
WORD_MAX_LENGTH = 100


@lru_cache(maxsize=2)
def _stemmer(language: str):
    return snowballstemmer.stemmer(language)


def stem(word: str, language: str) -> str | None:
    """The index term of one word, or None for a stop word (as PostgreSQL's dictionaries)."""
    return _stem(word.lower(), language)


@lru_cache(maxsize=100_000)
def _stem(word: str, language: str) -> str | None:
    if len(word) > WORD_MAX_LENGTH or word in _STOP[language]:
        return None
    if word.isdigit():
        return word
    return _stemmer(language).stemWord(word)


def terms(text: str, language: str) -> str:
    """The text as space-separated index terms (what the SQLite index stores)."""
    found = (stem(w, language) for w in WORD.findall(text or ""))
    return " ".join(t for t in found if t)


def detect_language(text: str) -> str:
    """``english`` when the text has clearly more English than Norwegian stop words.

    Studies are written in Norwegian; an item in English is indexed with the
    English stemmer so that "services" finds "service". Short or mixed texts
    stay Norwegian.
    """
    words = [w.lower() for w in WORD.findall(text[:5000])]
    english = sum(1 for w in words if w in stopwords.ENGLISH and w not in stopwords.NORWEGIAN)
    norwegian = sum(1 for w in words if w in stopwords.NORWEGIAN and w not in stopwords.ENGLISH)
    return ENGLISH if english >= 3 and english > 2 * norwegian else NORWEGIAN


class _TextOnly(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data):
        self.parts.append(data)

    def handle_starttag(self, tag, attrs):
        if tag in {"p", "li", "br", "tr", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre"}:
            self.parts.append("\n")


# Text in which Markdown sees nothing but paragraphs of words: letters, digits,
# spaces, line breaks and punctuation that is no Markdown syntax. Deliberately
# narrow: a "*", "_", "#", "`", "[", "<", "&", "\\", "|", "~", ">", "=", a tab,
# "\r", any other character, or a line that is indented by four spaces or
# starts as a list item ("-", "+", "12.", "3)") sends the text to the renderer.
_PROSE_CHARACTERS = re.compile(
    r"(?:[^\W_]|[ \n.,;:?!'\"()%/@+\-\u2013\u2014\u2018\u2019\u201c\u201d\u00ab\u00bb\u2026])*"
)
_BLOCK_START = re.compile(r"^(?: {4}| {0,3}(?:[-+]|\d{1,9}[.)]))", re.MULTILINE)
_LINE_BREAKS = re.compile(r"[ \t]*\n\s*")


def plain_text(markdown: str) -> str:
    """The words a reader sees in a piece of Markdown, without its syntax.

    Most items are plain paragraphs: their text is the Markdown itself, with
    the line breaks tidied as below, and needs no rendering (tests/search/
    test_text.py compares both ways over many generated texts).
    """
    markdown = markdown or ""
    if _PROSE_CHARACTERS.fullmatch(markdown) and not _BLOCK_START.search(markdown):
        return _LINE_BREAKS.sub("\n", markdown).strip()
    return _rendered_text(markdown)


def _rendered_text(markdown: str) -> str:
    parser = _TextOnly()
    parser.feed(render_markdown(markdown))
    parser.close()
    text = html.unescape("".join(parser.parts))
    return _LINE_BREAKS.sub("\n", text).strip()


# --- queries --------------------------------------------------------------------


@dataclass
class Clause:
    """Words that must all be there (``phrases`` in order), and words that must not."""

    words: list[str] = field(default_factory=list)
    phrases: list[list[str]] = field(default_factory=list)
    excluded: list[str] = field(default_factory=list)


@dataclass
class ParsedQuery:
    clauses: list[Clause]  # any one of them matches ("or")

    def websearch(self, language: str) -> str | None:
        """The query for ``language`` in websearch syntax, of words only (PostgreSQL's input).

        Clauses left with no word to find once stop words are dropped are left
        out, as fts5() leaves them out: PostgreSQL would otherwise read
        "og -skjema" as "everything without skjema".
        """
        out = []
        for clause in self.clauses:
            parts = [w for w in clause.words if stem(w, language)]
            parts += [
                '"' + " ".join(p) + '"' for p in clause.phrases if any(stem(w, language) for w in p)
            ]
            if not parts:
                continue
            parts += ["-" + w for w in clause.excluded if stem(w, language)]
            out.append(" ".join(parts))
        return " or ".join(out) or None

    def fts5(self, language: str) -> str | None:
        """An FTS5 expression of stems for ``language``; None when it can match nothing."""
        groups = []
        for clause in self.clauses:
            positive = [_quote(s) for s in (stem(w, language) for w in clause.words) if s]
            for phrase in clause.phrases:
                stems = [s for s in (stem(w, language) for w in phrase) if s]
                if stems:
                    positive.append(_quote(" ".join(stems)))
            if not positive:
                continue  # only stop words or exclusions: PostgreSQL drops it too
            expression = "(" + " AND ".join(positive) + ")"
            for word in clause.excluded:
                excluded = stem(word, language)
                if excluded:
                    expression = f"({expression} NOT {_quote(excluded)})"
            groups.append(expression)
        return " OR ".join(groups) or None

    def stems(self, language: str) -> set[str]:
        """The stems a match can show (words and phrase words, not exclusions)."""
        found = set()
        for clause in self.clauses:
            for word in [*clause.words, *(w for p in clause.phrases for w in p)]:
                s = stem(word, language)
                if s:
                    found.add(s)
        return found


def _quote(text: str) -> str:
    # An FTS5 string: only '"' is special inside it, and is doubled.
    return '"' + text.replace('"', '""') + '"'


_TOKEN = re.compile(r'"([^"]*)"?|(-?)([^\s"]+)')


def parse_query(raw: str) -> ParsedQuery:
    """Read a search as people type it: words, "a phrase", -word, or.

    Anything else (operators of either database, brackets, stars, colons)
    is not syntax here: only words are kept. At most QUERY_MAX_TERMS words.
    """
    clauses = [Clause()]
    count = 0
    for match in _TOKEN.finditer(raw.replace("\x00", " ")):
        phrase, minus, token = match.groups()
        if count >= QUERY_MAX_TERMS:
            break
        if phrase is not None:
            words = [w.lower() for w in WORD.findall(phrase)][: QUERY_MAX_TERMS - count]
            if len(words) == 1:
                clauses[-1].words.append(words[0])
            elif words:
                clauses[-1].phrases.append(words)
            count += len(words)
            continue
        if token.lower() == "or" and not minus:
            if clauses[-1].words or clauses[-1].phrases:
                clauses.append(Clause())
            continue
        words = [w.lower() for w in WORD.findall(token)]
        if not words:
            continue
        count += len(words)
        if minus:
            # "-e-post" excludes its first word; the rest are ordinary words.
            clauses[-1].excluded.append(words[0])
            clauses[-1].words.extend(words[1:])
        elif len(words) == 1:
            clauses[-1].words.append(words[0])
        else:
            clauses[-1].phrases.append(words)  # "e-post" reads as the phrase "e post"
    clauses = [c for c in clauses if c.words or c.phrases]
    return ParsedQuery(clauses=clauses)


# --- highlights -------------------------------------------------------------------


SNIPPET_BEFORE = 80
SNIPPET_LENGTH = 260


def highlight(text: str, found: set[str], language: str, *, snippet: bool = False) -> SafeString:
    """``text`` escaped, with the words whose stems are in ``found`` in <mark>.

    Every piece of the text goes through ``html.escape`` (what Django's
    ``escape`` does, without its lazy-string wrapper on each of a page's few
    hundred pieces); only the <mark> tags are added as markup. With ``snippet``
    only a window around the first match is kept (the start of the text when
    nothing matches).
    """
    text = text or ""
    matches = (
        [m for m in WORD.finditer(text) if _stem(m.group().lower(), language) in found]
        if found
        else []
    )
    start, end, lead, tail = 0, len(text), "", ""
    if snippet and len(text) > SNIPPET_LENGTH:
        first = matches[0].start() if matches else 0
        start = max(0, first - SNIPPET_BEFORE)
        if start:
            space = text.find(" ", start)
            start = space + 1 if 0 <= space < first else start
            lead = "… "
        end = min(len(text), start + SNIPPET_LENGTH)
        if end < len(text):
            space = text.rfind(" ", start, end)
            end = space if space > first else end
            tail = " …"
    pieces = [lead]
    position = start
    for match in matches:
        if match.start() < start or match.end() > end:
            continue
        pieces.append(html.escape(text[position : match.start()]))
        pieces.append("<mark>" + html.escape(match.group()) + "</mark>")
        position = match.end()
    pieces.append(html.escape(text[position:end]))
    pieces.append(tail)
    return mark_safe("".join(pieces))  # noqa: S308 - every piece of the text escaped above
