"""The message catalogues (issue 13): every text of the pages is in the fr, en and nl
catalogues, plurals are right, and a French page shows no English text of the UI."""

from __future__ import annotations

import re
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.checkers import num_plurals, python_format
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from coopgraph import i18n

ROOT = Path(__file__).resolve().parents[1]
BROWSER = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None,
            "translate": (2,), "translate_plural": (2, 3)}


def catalogue(lang: str):  # type: ignore[no-untyped-def]
    with i18n.po_path(lang).open("rb") as handle:
        return read_po(handle, locale=lang)


@pytest.fixture(scope="module")
def source_ids() -> set[str | tuple[str, ...]]:
    """Every message id in the code, extracted as ``make messages`` does (babel.cfg)."""
    with (ROOT / "babel.cfg").open() as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    found: set[str | tuple[str, ...]] = set()
    for _path, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS
    ):
        found.add(message)
    return found


@pytest.mark.parametrize("lang", i18n.LANGS)
def test_every_message_of_the_code_is_translated(lang: str, source_ids) -> None:  # type: ignore[no-untyped-def]
    cat = catalogue(lang)
    assert len(source_ids) > 150  # the extraction found the pages' texts
    untranslated = []
    for msgid in source_ids:
        message = cat.get(msgid)
        strings = message.string if message else None
        if not strings or (isinstance(strings, tuple) and not all(strings)):
            untranslated.append(msgid)
    assert not untranslated, f"{lang}: not in the catalogue or empty: {untranslated[:10]}"
    assert cat.num_plurals == 2
    for message in cat:
        if not message.id:
            continue
        assert not message.fuzzy, message.id
        num_plurals(cat, message)  # raises TranslationError on a wrong number of forms
        python_format(cat, message)  # the same %(name)s placeholders as the id


@pytest.mark.parametrize(
    ("lang", "one", "two", "zero"),
    [
        ("fr", "1 ligne", "2 lignes", "0 ligne"),
        ("en", "1 row", "2 rows", "0 rows"),
        ("nl", "1 rij", "2 rijen", "0 rijen"),
    ],
)
def test_plural_forms(lang: str, one: str, two: str, zero: str) -> None:
    def rows(n: int) -> str:
        return i18n.translate_plural(lang, "%(num)d row", "%(num)d rows", n)

    assert (rows(1), rows(2), rows(0)) == (one, two, zero)


def test_plural_in_the_gallery_and_in_the_scripts(client) -> None:  # type: ignore[no-untyped-def]
    html = client.get("/?lang=fr", headers=BROWSER).data.decode()
    counts = re.findall(r"Réponse attendue \((\d+) (lignes?)\)", html)
    assert counts, "the gallery shows its expected answers"
    for number, word in counts:
        assert word == ("ligne" if int(number) <= 1 else "lignes"), (number, word)
    assert "1 lignes" not in html
    # the scripts get their messages, plural forms singular first, on <body>
    assert i18n.script_messages("nl")["{n} actor"] == ["{n} actor", "{n} actoren"]
    assert i18n.script_messages("fr")["{n} place"] == ["{n} lieu", "{n} lieux"]


class _VisibleText(HTMLParser):
    """The text a reader sees, without code, data tables, scripts, the data's own terms and
    literals, and parts marked as another language (the ontology's English comments)."""

    SKIPPED = {"script", "style", "code", "pre", "table", "datalist", "textarea"}
    VOID = {"br", "img", "input", "link", "meta", "hr", "source", "wbr"}

    def __init__(self, lang: str) -> None:
        super().__init__()
        self.lang = lang
        self.stack: list[bool] = []
        self.chunks: list[str] = []

    def handle_starttag(self, tag, attrs) -> None:  # type: ignore[no-untyped-def]
        if tag in self.VOID:
            return
        values = dict(attrs)
        hidden = (tag in self.SKIPPED or values.get("lang") not in (None, self.lang)
                  or "cg-literal" in (values.get("class") or "").split()
                  # a term of the data shown by its label, with its IRI on hover
                  or (values.get("title") or "").startswith(("http://", "https://")))
        self.stack.append(hidden or (bool(self.stack) and self.stack[-1]))

    def handle_endtag(self, tag: str) -> None:
        if tag not in self.VOID and self.stack:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        if not (self.stack and self.stack[-1]):
            self.chunks.append(data)

    @classmethod
    def of(cls, html: str, lang: str) -> str:
        parser = cls(lang)
        parser.feed(html)
        # each element's text apart: words of two elements never make one phrase
        return " ¦ ".join(" ".join(chunk.split()) for chunk in parser.chunks if chunk.strip())


def _pieces(text: str) -> list[str]:
    """The fixed words of a message around its placeholders and markup."""
    pieces = (p.strip(" :;,.()") for p in re.split(r"%\(\w+\)[sd]|\{\w+\}|<[^>]+>", unescape(text)))
    return [p for p in pieces if len(p) >= 4 and re.search(r"[a-z]{3}", p)]


def _english_texts(lang: str) -> list[str]:
    """Texts of the UI in English whose translation differs: none may show in ``lang``."""
    cat = catalogue(lang)
    texts = []
    for message in cat:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        translated = {piece for text in strings for piece in _pieces(text)}
        texts += [piece for msgid in ids for piece in _pieces(msgid) if piece not in translated]
    return sorted(set(texts), key=len, reverse=True)


PAGES = [
    "/",
    "/network",
    "/map",
    "/ranking",
    "/stats",
    "/rules",
    "/ontology",
    "/upload",
    "/sparql",
    "/id/offer/000-lille-oujda",
    "/id/org/ville-de-lille",
    "/graph/seed/000-lille-oujda",
    "/no/such/page",
]


@pytest.mark.parametrize("lang", ["fr", "nl"])
def test_pages_show_no_english_text_of_the_ui(client, lang: str) -> None:  # type: ignore[no-untyped-def]
    english = _english_texts(lang)
    assert "Shareable link" in english and "Why is this here?" in english
    # the check sees the UI's texts where they are: the English page shows them
    shown = _VisibleText.of(client.get("/?lang=en", headers=BROWSER).data.decode(), "en")
    assert "Shareable link" in shown and "Examples" in shown
    for path in PAGES:
        response = client.get(f"{path}?lang={lang}", headers=BROWSER)
        assert response.status_code in (200, 404), path
        text = _VisibleText.of(response.data.decode(), lang)
        assert len(text) > 40, path
        found = [e for e in english if re.search(rf"(?<![\w:/-]){re.escape(e)}(?![\w/-])", text)]
        assert not found, f"{path} in {lang} shows English UI text: {found}"


@pytest.mark.parametrize("lang", i18n.LANGS)
def test_every_gallery_query_speaks_each_language(lang: str) -> None:
    """Titles and descriptions are query metadata (``#+ title@nl:``), not catalogue
    messages: each gallery query carries them in every language the pages offer."""
    from coopgraph.queries import load_catalog

    catalog = load_catalog(ROOT / "queries")
    assert len(catalog) > 20
    missing = [q.name for q in catalog
               if lang not in q.localised.get("title", {})
               or lang not in q.localised.get("description", {})]
    assert not missing, f"gallery queries without a {lang} title or description: {missing}"


def test_the_dutch_gallery_shows_dutch_titles(client) -> None:  # type: ignore[no-untyped-def]
    page = unescape(client.get("/?lang=nl", headers=BROWSER).data.decode())
    assert 'data-title="Wie is partner van wie?"' in page
    shown = _VisibleText.of(page, "nl")
    assert "Wie is partner van wie?" in shown and "Who partners with whom?" not in shown
