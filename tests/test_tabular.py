"""Spreadsheet template and import (coopgraph.tabular): a person who knows no RDF fills a
CSV template, imports it, reads errors by row and column, and adds the good rows."""

from __future__ import annotations

import csv
import doctest
import importlib
import io
from pathlib import Path

import pyoxigraph as ox
import pytest
from click.testing import CliRunner

from coopgraph.cli import main
from coopgraph.errors import BadRequest, ParseError
from coopgraph.store import open_store
from coopgraph.store.base import Solutions
from coopgraph.tabular import KINDS, SEPARATOR, add_rows, import_sheet, read_sheet, template
from coopgraph.tabular.cells import (
    CellError,
    parse_date,
    parse_duration,
    parse_language,
    parse_number,
    parse_working_time,
)
from coopgraph.vocab import GRAPH, ID, PROVENANCE_GRAPH

CSV_DIR = Path(__file__).parent / "data" / "csv"
BOM = "\ufeff"


def rows_of(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def sheet_bytes(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return (BOM + out.getvalue()).encode("utf-8")


def fill(kind: str, lang: str, *records: dict[str, str]) -> bytes:
    """Fill a template as a person would: keep the header and explanation rows, replace
    the example row by rows typed under the column names they read."""
    header, explanation, _example = rows_of(template(kind, lang))
    for record in records:
        assert set(record) <= set(header), set(record) - set(header)
    return sheet_bytes([header, explanation, *[[r.get(h, "") for h in header] for r in records]])


def issues(report):  # type: ignore[no-untyped-def]
    return {
        (i.row, i.column.key if i.column else None, i.rule, i.severity) for i in report.issues()
    }


# -- template ------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["fr", "en"])
@pytest.mark.parametrize("kind", sorted(KINDS))
def test_template_headers_round_trip(kind: str, lang: str) -> None:
    data = template(kind, lang)
    assert data.startswith(BOM.encode("utf-8"))  # Excel opens accents right
    header, explanation, example = rows_of(data)
    assert header == [c.header[lang] for c in KINDS[kind]]
    assert len(explanation) == len(example) == len(header)
    sheet = read_sheet(data, source="t.csv")
    assert (sheet.kind, sheet.lang, sheet.delimiter) == (kind, lang, ",")
    assert [c.key for c in sheet.columns if c] == [c.key for c in KINDS[kind]]
    assert explanation[0].startswith("#")
    for column, text in zip(KINDS[kind], explanation, strict=True):
        if column.rule:
            assert column.rule in text
        if column.multi:
            assert f"« {SEPARATOR} »" in text or f"“{SEPARATOR}”" in text
        if column.required:
            assert ("Obligatoire" if lang == "fr" else "Required") in text


def test_template_kind_and_language_are_checked() -> None:
    with pytest.raises(BadRequest):
        template("person", "fr")
    with pytest.raises(BadRequest):
        template("offer", "de")


@pytest.mark.parametrize("lang", ["fr", "en"])
@pytest.mark.parametrize("kind", sorted(KINDS))
def test_template_rows_are_skipped_and_its_example_conforms(project_store, kind, lang) -> None:
    data = template(kind, lang)
    untouched = import_sheet(project_store, read_sheet(data, source="t.csv"))
    assert (untouched.rows, untouched.skipped) == ([], [3])
    header, explanation, example = rows_of(data)
    example[0] = f"test-example-{kind}-{lang}"
    report = import_sheet(project_store, read_sheet(sheet_bytes([header, explanation, example])))
    assert [r.number for r in report.rows] == [3]
    assert report.conforms, report.to_text("en")
    assert [i for i in report.issues() if i.severity == "Violation"] == []


# -- fill, import, add ---------------------------------------------------------------------


def test_new_offer_in_french_from_template_to_store(fresh_store) -> None:
    data = fill(
        "offer",
        "fr",
        {
            "Identifiant": "lille-oujda-jeunesse-2024",
            "Intitulé du poste": "Chargé·e de mission jeunesse Lille-Oujda",
            "Employeur": "Ville de Lille",
            "Intermédiaire": "France Volontaires",
            "Lieu d'affectation": "Oujda",
            "Date de publication": "2024-03-15",
            "Date limite": "2024-04-30",
            "Date de début": "2024-05-01",
            "Durée": "12 mois",
            "Type de contrat": "VSI",
            "Temps de travail": "temps plein",
            "Rémunération minimum": "850",
            "Rémunération maximum": "850",
            "Devise": "€",
            "Période de rémunération": "mois",
            "Niveau de formation": "Bac+5",
            "Expérience minimum (années)": "1",
            "Langues": "arabe:B2:obligatoire; anglais:souhaitée",
            "Compétences": "Gestion de projet; Communication",
            "Programme ou appel à projets": "FICOL",
            "Source (adresse web)": "https://www.example.org/offres/lille-oujda-jeunesse",
        },
    )
    sheet = read_sheet(data, source="nouvelle-offre.csv")
    report = import_sheet(fresh_store, sheet)
    assert report.conforms, report.to_text("fr")
    assert report.to_text("fr").splitlines()[0] == "ligne 3 : conforme"
    add_rows(fresh_store, report, agent="testeuse")
    assert report.added == {3: GRAPH["entry/offer-lille-oujda-jeunesse-2024"]}

    offer = ID["offer/lille-oujda-jeunesse-2024"]
    result = fresh_store.query(
        """PREFIX schema: <http://schema.org/> PREFIX cg: <https://w3id.org/coopgraph/ontology#>
        SELECT ?o ?g ?employer ?place ?deadline ?cur ?unit ?cefr ?level ?ctype WHERE { GRAPH ?g {
          ?o schema:hiringOrganization ?employer ; cg:dutyStation ?place ;
             schema:validThrough ?deadline ; cg:contractType ?ctype ;
             schema:baseSalary [ schema:currency ?cur ; schema:value [ schema:unitText ?unit ] ] ;
             cg:requiresLanguage [ cg:language "ar"^^<http://www.w3.org/2001/XMLSchema#language> ;
                                   cg:cefrLevel ?cefr ; cg:requirementLevel ?level ] } }""",
        bindings={"o": ox.NamedNode(offer)},
    )
    assert isinstance(result, Solutions)
    values = [tuple(t.value for t in row if t is not None) for row in result.rows]
    assert values == [
        (
            offer,
            GRAPH["entry/offer-lille-oujda-jeunesse-2024"],
            ID["org/ville-de-lille"],
            ID["place/oujda"],
            "2024-04-30",
            "EUR",
            "MONTH",
            ID["concept/cefr/b2"],
            "https://w3id.org/coopgraph/ontology#Required",
            ID["concept/contract-type/vsi"],
        )
    ]
    provenance = fresh_store.query(
        "PREFIX prov: <http://www.w3.org/ns/prov#> SELECT ?who ?used ?g ?pg WHERE { GRAPH ?pg { "
        "?g prov:wasAttributedTo ?who ; prov:wasGeneratedBy ?a . ?a prov:used ?used } }",
        bindings={"g": ox.NamedNode(report.added[3]), "pg": ox.NamedNode(PROVENANCE_GRAPH)},
    )
    assert isinstance(provenance, Solutions)
    assert [(r[0].value, r[1].value) for r in provenance.rows] == [  # type: ignore[union-attr]
        (ID["agent/testeuse"], "nouvelle-offre.csv (3)")
    ]


def test_cli_import_add_english_sheet(tmp_path: Path) -> None:
    store_dir = tmp_path / "store"
    runner = CliRunner()
    result = runner.invoke(
        main,
        [
            "import",
            str(CSV_DIR / "offer-en.csv"),
            "--store",
            str(store_dir),
            "--add",
            "--agent",
            "tester",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "row 3: added (" in result.output
    st = open_store(str(store_dir))
    try:
        found = st.query(
            "PREFIX cg: <https://w3id.org/coopgraph/ontology#> SELECT ?code ?level ?o WHERE { "
            "GRAPH ?g { ?o cg:requiresLanguage ?l . "
            "?l cg:language ?code ; cg:requirementLevel ?level } } "
            "ORDER BY ?code",
            bindings={"o": ox.NamedNode(ID["offer/tester-lille-oujda-2024-en"])},
        )
        assert isinstance(found, Solutions)
        assert [(r[0].value, r[1].value.rsplit("#", 1)[1]) for r in found.rows] == [  # type: ignore[union-attr]
            ("ar", "Required"),
            ("en", "Preferred"),
        ]
    finally:
        st.close()
    # the same sheet again updates the entry the first import made (fix a cell, import
    # again), instead of failing on the identifier it used
    again = runner.invoke(
        main,
        ["import", str(CSV_DIR / "offer-en.csv"), "--store", str(store_dir), "--add",
         "--agent", "tester"],
    )
    assert again.exit_code == 0, again.output
    assert "0 added" in again.output and "0 rejected" in again.output
    st = open_store(str(store_dir))
    try:
        graphs = st.query(
            "SELECT DISTINCT ?g WHERE { GRAPH ?g { "
            f"<{ID['offer/tester-lille-oujda-2024-en']}> a ?t }} "
            "FILTER(STRSTARTS(STR(?g), 'https://w3id.org/coopgraph/graph/entry/')) }"
        )
        assert isinstance(graphs, Solutions) and len(graphs.rows) == 1
    finally:
        st.close()


# -- errors by row and column ------------------------------------------------------------

THREE_ERRORS = [
    "ligne 3, colonne « Date limite » : « fin avril » n'est pas une date : écrivez AAAA-MM-JJ "
    "(règle CG-OFFER-004)",
    "ligne 4, colonne « Employeur » : « Mairie de Lilles » n'est pas une organisation connue",
    "ligne 5, colonne « Devise » : Le montant doit avoir une devise",
]


def test_three_kinds_of_error_by_row_column_and_rule(project_store) -> None:
    sheet = read_sheet((CSV_DIR / "offer-three-errors.csv").read_bytes(), source="s.csv")
    report = import_sheet(project_store, sheet)
    violations = {i for i in issues(report) if i[3] == "Violation"}
    assert violations == {
        (3, "deadline", "CG-OFFER-004", "Violation"),
        (4, "employer", "CG-OFFER-002", "Violation"),
        (5, "currency", "CG-OFFER-010", "Violation"),
    }
    assert [r.conforms for r in report.rows] == [False, False, False, True]
    text = report.to_text("fr").splitlines()
    for expected in THREE_ERRORS:
        assert any(line.startswith(expected) for line in text), (expected, text)
    assert "(règle CG-OFFER-010)" in next(line for line in text if line.startswith(THREE_ERRORS[2]))
    assert "vouliez-vous dire « Mairie de Lille » ?" in report.to_text("fr")
    english = report.to_text("en")
    assert (
        "row 3, column “Date limite”: “fin avril” is not a date: write YYYY-MM-DD "
        "(rule CG-OFFER-004)"
    ) in english
    for word in ("sh:", "shacl", "focus", "Shape"):
        assert word not in report.to_text("fr") + english


def test_cli_annotate_and_add_only_conforming_rows(tmp_path: Path) -> None:
    out = tmp_path / "annotated.csv"
    store_dir = tmp_path / "store"
    result = CliRunner().invoke(
        main,
        [
            "import",
            str(CSV_DIR / "offer-three-errors.csv"),
            "--annotate",
            str(out),
            "--add",
            "--agent",
            "tester",
            "--store",
            str(store_dir),
        ],
    )
    assert result.exit_code == 1, result.output
    for expected in THREE_ERRORS:
        assert expected in result.output
    assert "ligne 6 : ajoutée (" in result.output
    rows = rows_of(out.read_bytes())
    original = rows_of((CSV_DIR / "offer-three-errors.csv").read_bytes())
    assert [r[:-1] for r in rows] == original
    assert rows[0][-1] == "Erreurs (coopgraph)"
    errors = {n + 1: r[-1] for n, r in enumerate(rows)}
    assert errors[3].startswith("colonne « Date limite » : « fin avril » n'est pas une date")
    assert "(règle CG-OFFER-004)" in errors[3]
    assert "colonne « Employeur »" in errors[4] and "(règle CG-OFFER-002)" in errors[4]
    assert "colonne « Devise »" in errors[5] and "(règle CG-OFFER-010)" in errors[5]
    assert "règle CG-OFFER-00" not in errors[6].replace("CG-OFFER-006", "")
    st = open_store(str(store_dir))
    try:
        graphs = set(st.graph_sizes())
    finally:
        st.close()
    assert GRAPH["entry/offer-ligne-conforme"] in graphs
    assert (
        not {
            GRAPH["entry/offer-erreur-date"],
            GRAPH["entry/offer-erreur-employeur"],
            GRAPH["entry/offer-erreur-devise"],
        }
        & graphs
    )


def test_other_kinds_and_french_excel_semicolons(project_store) -> None:
    partnership = read_sheet((CSV_DIR / "partnership-fr-semicolon.csv").read_bytes())
    assert (partnership.kind, partnership.delimiter, partnership.lang) == ("partnership", ";", "fr")
    report = import_sheet(project_store, partnership)
    assert report.conforms, report.to_text("fr")
    triples = {
        (q.subject.value, q.predicate.value.rsplit("#", 1)[-1].rsplit("/", 1)[-1], q.object.value)
        for q in report.rows[0].quads
    }
    assert (ID["org/brulocalis"], "partnerOf", ID["org/so-cooperation"]) in triples
    assert any(p == "theme" and o == ID["concept/sdg/17"] for _, p, o in triples)
    organisation = import_sheet(
        project_store, read_sheet((CSV_DIR / "organisation-en.csv").read_bytes())
    )
    assert organisation.conforms, organisation.to_text("en")
    types = {
        q.object.value for q in organisation.rows[0].quads if q.predicate.value.endswith("#type")
    }
    assert "https://w3id.org/coopgraph/ontology#Commune" in types


def test_mixed_partnership_dates_are_told_on_the_start_column(project_store) -> None:
    data = fill(
        "partnership",
        "en",
        {
            "Name (French)": "Test",
            "Partners": "Brulocalis; SO Coopération",
            "Partnership type": "twinning",
            "Start": "2024",
            "End": "2026-12-31",
        },
    )
    report = import_sheet(project_store, read_sheet(data))
    assert (3, "start", "CG-PART-009", "Violation") in issues(report)


# -- unreadable sheets -----------------------------------------------------------------------


def test_bad_encoding_exits_2() -> None:
    result = CliRunner().invoke(
        main, ["import", str(CSV_DIR / "bad-encoding.csv"), "--store", ":memory:"]
    )
    assert result.exit_code == 2
    assert "UTF-8" in result.output


@pytest.mark.parametrize(
    "data, kind, message",
    [
        (b"", None, "empty"),
        ("Prénom,Nom\nA,B\n".encode(), None, "no known column"),
        ("Intitulé du poste,Couleur\nA,B\n".encode(), None, "unknown column"),
        ("Intitulé du poste,Date limite,Date limite\n".encode(), None, "twice"),
    ],
)
def test_unreadable_sheets(data: bytes, kind: str | None, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        read_sheet(data, source="x.csv", kind=kind)


def test_cli_unknown_kind_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_bytes(template("offer", "fr"))
    result = CliRunner().invoke(main, ["import", str(path), "--kind", "person"])
    assert result.exit_code == 2


def test_cli_template_output() -> None:
    result = CliRunner().invoke(main, ["template", "partnership", "--lang", "en"])
    assert result.exit_code == 0
    assert result.stdout_bytes == template("partnership", "en")


# -- cells -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "parse, text, expected",
    [
        (parse_date, "2024-02-29", "2024-02-29"),
        (parse_duration, "6 semaines", "P6W"),
        (parse_duration, "1 an", "P1Y"),
        (parse_number, "2 600", 2600),
        (parse_working_time, "mi-temps", ("PART_TIME", parse_number("0.5"))),
        (parse_working_time, "1/3", ("PART_TIME", parse_number("0.333"))),
        (parse_language, "ary", ("ary", None, "Required")),
        (parse_language, "Néerlandais:c1:un plus", ("nl", "c1", "Preferred")),
    ],
)
def test_cells(parse, text, expected) -> None:  # type: ignore[no-untyped-def]
    assert parse(text) == expected


@pytest.mark.parametrize(
    "parse, text",
    [
        (parse_date, "2023-02-29"),
        (parse_date, "01/05/2024"),
        (parse_duration, "longtemps"),
        (parse_number, "deux mille"),
        (parse_working_time, "150 %"),
        (parse_language, "klingon"),
        (parse_language, "ar:B7"),
    ],
)
def test_bad_cells(parse, text) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(CellError) as caught:
        parse(text)
    assert set(caught.value.messages) == {"fr", "en"}


@pytest.mark.parametrize("module", ["coopgraph.tabular", "coopgraph.tabular.cells"])
def test_doctests(module: str) -> None:
    result = doctest.testmod(importlib.import_module(module))
    assert result.attempted > 0 and result.failed == 0


def test_free_text_skill_and_duplicate_id_are_flagged(project_store) -> None:
    row = {
        "Identifier": "same-id",
        "Job title": "Officer",
        "Employer": "Brulocalis",
        "Deadline": "2024-05-31",
        "Skills": "Project management; juggling",
    }
    report = import_sheet(project_store, read_sheet(fill("offer", "en", row, row)))
    assert issues(report) >= {
        (3, "skills", "CG-OFFER-022", "Violation"),
        (4, "id", None, "Violation"),
    }
    assert "“juggling” is not in the “skills” list" in report.to_text("en")
    assert "already used (higher in the sheet)" in report.to_text("en")


def test_bad_agent_writes_nothing(fresh_store) -> None:
    from conftest import store_fingerprint

    report = import_sheet(fresh_store, read_sheet((CSV_DIR / "offer-en.csv").read_bytes()))
    assert report.conforms
    before = store_fingerprint(fresh_store)
    with pytest.raises(BadRequest, match="agent"):
        add_rows(fresh_store, report, agent="not a name!")
    assert store_fingerprint(fresh_store) == before
    assert report.added == {}
