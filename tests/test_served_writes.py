"""Staff import while the site runs (issue 13): with ``coopgraph serve`` holding the store,
``import --add``, ``add``, ``replace`` and ``remove`` write through that server over HTTP
(the same pipeline), ``POST /entries`` takes a spreadsheet, re-importing a sheet skips
unchanged rows and replaces changed ones, and the exit codes are the README's.

A real ``coopgraph serve`` on 127.0.0.1 and a free port, on a temporary disk store.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from conftest import serving
from coopgraph.served import record_path, served_by
from coopgraph.vocab import ID

DATA = Path(__file__).parent / "data"
SHEET = DATA / "csv" / "offer-en.csv"
TOKEN = "staff-secret-token-1234"
ENTRY = "offer-tester-lille-oujda-2024-en"
ORGANISATION = (DATA / "valid" / "new-organisation.ttl").read_bytes()


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COOPGRAPH_")}
    env.update(extra)
    return env


def cli(*args: str, token: str | None = None) -> subprocess.CompletedProcess[str]:
    """``coopgraph ARGS`` in a child process (``COOPGRAPH_TOKEN`` set when given)."""
    env = _env(COOPGRAPH_TOKEN=token) if token else _env()
    return subprocess.run([sys.executable, "-m", "coopgraph", *args], env=env,
                          capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """(URL, store directory) of ``coopgraph serve`` with one staff token, stopped with
    SIGTERM as `kill`, systemd and container runtimes do."""
    store = tmp_path_factory.mktemp("served") / "store"
    log_path = store.parent / "serve.err"
    env = _env(COOPGRAPH_TOKENS=f"staff:{TOKEN}")
    with serving(store, log_path, env, stop_with=signal.SIGTERM) as url:
        yield url, str(store)
    # a server stopped by SIGTERM stops as on Ctrl-C: it no longer claims the store
    assert served_by(str(store)) is None
    assert not record_path(str(store)).exists()  # type: ignore[union-attr]


def entry_title(url: str, entry: str) -> str | None:
    """The entry's schema:title as the server has it (None: no such entry)."""
    response = requests.get(f"{url}entries/{entry}", headers={"Accept": "application/n-quads"},
                            timeout=30)
    if response.status_code == 404:
        return None
    assert response.status_code == 200, response.text
    found = re.search(r'<http://schema\.org/title> "([^"]*)"', response.text)
    return found.group(1) if found else ""


def changed_sheet(folder: Path, title: str) -> Path:
    """The test sheet with another job title (same identifier: same entry)."""
    text = SHEET.read_text(encoding="utf-8-sig")
    old = '"Youth exchange officer, Lille-Oujda cooperation"'
    assert old in text
    path = folder / "offre.csv"
    path.write_text(text.replace(old, f'"{title}"'), encoding="utf-8")
    return path


def test_the_server_records_the_store_it_holds(served) -> None:  # type: ignore[no-untyped-def]
    url, store = served
    found = served_by(store)
    assert found is not None and found.url == url


def test_without_a_token_the_command_says_what_to_do(served) -> None:  # type: ignore[no-untyped-def]
    url, store = served
    result = cli("import", str(SHEET), "--add", "--store", store)
    assert result.returncode == 2, result.stderr
    assert "held by `coopgraph serve`" in result.stderr and url in result.stderr
    assert "COOPGRAPH_TOKEN" in result.stderr and "--token" in result.stderr
    assert "nothing was written" in result.stderr
    assert entry_title(url, ENTRY) is None


def test_import_through_the_server_then_again_then_replace(served, tmp_path) -> None:  # type: ignore[no-untyped-def]
    url, store = served
    first = cli("import", str(SHEET), "--add", "--store", store, token=TOKEN)
    assert first.returncode == 0, first.stdout + first.stderr
    assert f"writing through {url}" in first.stderr
    assert re.search(rf"^added\s+entry/{ENTRY}\s+\(offer-en\.csv .*row 3", first.stdout, re.M), (
        first.stdout)
    assert entry_title(url, ENTRY) == "Youth exchange officer, Lille-Oujda cooperation"
    # the same sheet again: skipped, not refused for its used identifier
    again = cli("import", str(SHEET), "--add", "--store", store, token=TOKEN)
    assert again.returncode == 0, again.stdout + again.stderr
    assert re.search(rf"^unchanged\s+entry/{ENTRY}", again.stdout, re.M), again.stdout
    # a fixed cell: `replace offre.csv` updates the entry the row made
    fixed = changed_sheet(tmp_path, "Youth exchange coordinator, Lille-Oujda")
    replaced = cli("replace", str(fixed), "--store", store, token=TOKEN)
    assert replaced.returncode == 0, replaced.stdout + replaced.stderr
    assert re.search(rf"^replaced\s+entry/{ENTRY}", replaced.stdout, re.M), replaced.stdout
    assert entry_title(url, ENTRY) == "Youth exchange coordinator, Lille-Oujda"


def test_rejected_rows_exit_1_through_the_server(served) -> None:  # type: ignore[no-untyped-def]
    url, store = served
    result = cli("import", str(DATA / "csv" / "offer-three-errors.csv"), "--add",
                 "--store", store, token=TOKEN)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "rejected" in result.stdout and "CG-OFFER" in result.stdout


def test_a_wrong_token_exits_2_and_a_bad_format_3(served, tmp_path) -> None:  # type: ignore[no-untyped-def]
    url, store = served
    wrong = cli("import", str(SHEET), "--add", "--server", url, "--token", "not-the-token")
    assert wrong.returncode == 2, wrong.stderr
    assert "401" in wrong.stderr
    odd = tmp_path / "notes.docx"
    odd.write_bytes(b"PK")
    unsupported = cli("add", str(odd), "--store", store, token=TOKEN)
    assert unsupported.returncode == 3, unsupported.stderr


def test_add_replace_remove_an_rdf_entry_through_the_server(served, tmp_path) -> None:  # type: ignore[no-untyped-def]
    url, store = served
    added = cli("add", str(DATA / "valid" / "new-offer.ttl"), "--graph", "served-offer",
                "--store", store, token=TOKEN)
    assert added.returncode == 0, added.stdout + added.stderr
    assert added.stdout.startswith("added ") and "served-offer" in added.stdout
    assert f"through {url}" in added.stdout
    assert entry_title(url, "served-offer")
    bad = cli("replace", str(DATA / "invalid" / "no-employer.ttl"), "--graph", "served-offer",
              "--store", store, token=TOKEN)
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "CG-OFFER" in bad.stdout and "422" in bad.stderr
    assert entry_title(url, "served-offer")  # unchanged
    removed = cli("remove", "--graph", "served-offer", "--store", store, token=TOKEN)
    assert removed.returncode == 0, removed.stdout + removed.stderr
    assert entry_title(url, "served-offer") is None


def _focus(url: str, iri: str) -> requests.Response:
    return requests.get(f"{url}api/network.json", params={"focus": iri, "depth": "1"},
                        timeout=60)


def _until(check: Any) -> bool:
    """Poll ``check()`` every 0.1 s (10 min at most: a deadline, not a timing)."""
    for _ in range(6000):
        if check():
            return True
        time.sleep(0.1)
    return False


def test_the_network_view_shows_an_http_write_and_its_removal(served) -> None:  # type: ignore[no-untyped-def]
    """A PUT over HTTP (a new organisation, member of the Eurométropole) reaches the
    served network view: its node and tie appear in ``/api/network.json?focus=``; the
    DELETE takes them away again (a 404 for the focus)."""
    url, _ = served
    tournai = ID["org/test-commune-tournai"]
    auth = {"Authorization": f"Bearer {TOKEN}"}
    assert _focus(url, tournai).status_code == 404
    put = requests.put(f"{url}entries/network-visible", data=ORGANISATION, timeout=120,
                       headers={**auth, "Content-Type": "text/turtle"})
    assert put.status_code == 201, put.text

    def tied() -> bool:
        answer = _focus(url, tournai)
        return answer.status_code == 200 and any(
            {link["source"], link["target"]} == {tournai, ID["org/eurometropole"]}
            for link in answer.json()["links"])

    assert _until(tied)
    removed = requests.delete(f"{url}entries/network-visible", headers=auth, timeout=120)
    assert removed.status_code == 200, removed.text
    assert _until(lambda: _focus(url, tournai).status_code == 404)


def test_post_entries_takes_a_spreadsheet(served, tmp_path) -> None:  # type: ignore[no-untyped-def]
    url, _store = served
    sheet = changed_sheet(tmp_path, "Posted as a sheet").read_bytes().replace(
        b"tester-lille-oujda-2024-en,", b"sheet-posted-to-entries,")
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "text/csv",
               "Accept": "application/json"}
    answer = requests.post(url + "entries", data=sheet, headers=headers, timeout=120)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    assert [e["status"] for e in body["entries"]] == ["added"]
    assert entry_title(url, "offer-sheet-posted-to-entries") == "Posted as a sheet"
    again = requests.post(url + "entries", data=sheet, headers=headers, timeout=120)
    assert again.status_code == 200 and [e["status"] for e in again.json()["entries"]] == [
        "unchanged"]
