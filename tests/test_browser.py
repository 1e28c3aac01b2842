"""Headless Chromium on the real pages: the network and the map are drawn, the query page
runs a gallery example.

Needs the Debian packages ``chromium`` and ``chromium-driver`` (``apt-get install -y
chromium chromium-driver``; ``.ci/run`` installs them) and Selenium from PyPI. Selenium is
given both binaries, so it never downloads a browser or a driver. The app runs in
waitress on 127.0.0.1 and a free port, in a thread, on the session's project store.
"""

from __future__ import annotations

import re
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from coopgraph import network
from coopgraph.store import Store

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
INSTALL_HINT = (
    "headless browser tests need Chromium: apt-get update && "
    "apt-get install -y chromium chromium-driver (the CI script does it)"
)
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,900",
    "--enable-unsafe-swiftshader",  # software WebGL for sigma.js in headless mode
)
WAIT = 30  # seconds before a page counts as not drawn (an upper bound, not a timing test)


@pytest.fixture(scope="module")
def live_url(settings: Any, project_store: Store) -> Iterator[str]:
    """The app served by waitress on 127.0.0.1 and a free port, for this module."""
    from waitress.server import create_server

    from coopgraph.web import create_app

    app = create_app(settings, store=project_store)
    server = create_server(app, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}"
    finally:
        server.close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    if not (Path(CHROMIUM).exists() and shutil.which(CHROMEDRIVER)):
        pytest.fail(INSTALL_HINT)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    try:
        yield driver
    finally:
        driver.quit()


def wait_for_attribute(driver: Any, element_id: str, attribute: str) -> Any:
    """The element once its script has set ``attribute`` (or ``data-error``)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    # the element may come with the next page (a form's answer): wait for it to exist
    WebDriverWait(driver, WAIT).until(lambda d: d.find_elements(By.ID, element_id))
    element = driver.find_element(By.ID, element_id)
    WebDriverWait(driver, WAIT).until(
        lambda _: element.get_attribute(attribute) or element.get_attribute("data-error")
    )
    assert element.get_attribute("data-error") is None, element.get_attribute("data-error")
    return element


def open_page(driver: Any, url: str) -> None:
    """Load ``url`` after draining the console log, so js_errors sees this page only."""
    driver.get_log("browser")
    driver.get(url)


def js_errors(driver: Any) -> list[str]:
    """Console errors other than a missing favicon."""
    return [
        entry["message"]
        for entry in driver.get_log("browser")
        if entry["level"] == "SEVERE" and "favicon" not in entry["message"]
    ]


def network_ready(driver: Any) -> Any:
    return wait_for_attribute(driver, "network", "data-drawn-nodes")


def test_network_page_draws_every_node(browser, live_url, project_store, tmp_path) -> None:
    graph = network.build_graph(project_store)
    open_page(browser, live_url + "/network?lang=en")
    box = network_ready(browser)
    assert int(box.get_attribute("data-drawn-nodes")) == graph.number_of_nodes()
    assert int(box.get_attribute("data-drawn-ties")) == graph.number_of_edges()
    drawn = browser.execute_script("return coopgraphNetwork.graph.nodes()")
    assert set(drawn) == set(graph.nodes)
    browser.save_screenshot(str(tmp_path / "network.png"))
    assert js_errors(browser) == []


def test_network_filter_hides_a_tie_type_and_keeps_it_in_the_url(
    browser, live_url, project_store
) -> None:
    from selenium.webdriver.common.by import By

    graph = network.build_graph(project_store)
    funding = sum(1 for *_, d in graph.edges(data=True) if d["type"] == "funding")
    assert funding, "the project has funding ties"
    open_page(browser, live_url + "/network")
    box = network_ready(browser)
    before = int(box.get_attribute("data-visible-links"))
    browser.find_element(By.CSS_SELECTOR, "#network-filter input[value=funding]").click()
    assert int(box.get_attribute("data-visible-links")) == before - funding
    assert "hide=funding" in browser.current_url
    browser.refresh()  # the filter survives a reload (it is in the URL)
    box = network_ready(browser)
    assert int(box.get_attribute("data-visible-links")) == before - funding
    checkbox = browser.find_element(By.CSS_SELECTOR, "#network-filter input[value=funding]")
    assert not checkbox.is_selected()


def node_on_screen(driver: Any, iri: str) -> tuple[float, float]:
    """Where sigma drew a node, in CSS pixels from the container's top-left corner."""
    point = driver.execute_script(
        "var r = coopgraphNetwork.renderer;"
        "var p = r.graphToViewport(coopgraphNetwork.graph.getNodeAttributes(arguments[0]));"
        "return [p.x, p.y];",
        iri,
    )
    return point[0], point[1]


def move_to_node(driver: Any, iri: str) -> Any:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    box = driver.find_element(By.ID, "network")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", box)
    x, y = node_on_screen(driver, iri)
    size = box.size
    dx, dy = int(x - size["width"] / 2), int(y - size["height"] / 2)
    actions = ActionChains(driver)
    actions.move_to_element_with_offset(box, dx - 2, dy - 2).move_by_offset(2, 2).perform()
    return actions


def test_network_hover_shows_a_tooltip_and_click_opens_the_page(browser, live_url) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    lille = "https://w3id.org/coopgraph/id/org/ville-de-lille"
    open_page(browser, live_url + "/network?lang=en")
    box = network_ready(browser)
    actions = move_to_node(browser, lille)
    WebDriverWait(browser, WAIT).until(lambda _: box.get_attribute("data-hovered") == lille)
    tooltip = browser.find_element(By.ID, "network-tooltip")
    assert tooltip.is_displayed()
    assert "Lille" in tooltip.text and "ties" in tooltip.text
    actions.click().perform()
    WebDriverWait(browser, WAIT).until(lambda d: "/id/" in d.current_url)
    assert browser.current_url == live_url + "/id/org/ville-de-lille?lang=en"


def test_network_search_focuses_on_an_actor(browser, live_url, project_store, tmp_path) -> None:
    """Searching an actor keeps ?focus= in the URL and draws its neighbourhood only."""
    import networkx as nx
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    graph = network.build_graph(project_store)
    brulocalis = "https://w3id.org/coopgraph/id/org/brulocalis"
    open_page(browser, live_url + "/network?lang=en")
    box = network_ready(browser)
    search = browser.find_element(By.ID, "network-search")
    search.send_keys("Brulocalis", Keys.ENTER)
    WebDriverWait(browser, WAIT).until(lambda _: box.get_attribute("data-focus") == brulocalis)
    neighbourhood = nx.ego_graph(graph, brulocalis, radius=1)
    assert int(box.get_attribute("data-drawn-nodes")) == neighbourhood.number_of_nodes()
    assert "focus=" + quote(brulocalis, safe="") in browser.current_url
    assert "Brulocalis" in browser.find_element(By.ID, "network-status").text
    browser.save_screenshot(str(tmp_path / "network-focus.png"))
    # the link opens the same focus, and depth 2 reaches further
    open_page(browser, live_url + f"/network?focus={quote(brulocalis, safe='')}&depth=2")
    box = network_ready(browser)
    wider = nx.ego_graph(graph, brulocalis, radius=2)
    assert int(box.get_attribute("data-drawn-nodes")) == wider.number_of_nodes()
    assert js_errors(browser) == []


def test_network_top_n_mode(browser, live_url, project_store) -> None:
    graph = network.build_graph(project_store)
    open_page(browser, live_url + "/network?limit=10")
    box = network_ready(browser)
    assert int(box.get_attribute("data-drawn-nodes")) == 10 < graph.number_of_nodes()
    from selenium.webdriver.common.by import By

    assert f"of {graph.number_of_nodes()}" in browser.find_element(By.ID, "network-status").text \
        or f"sur {graph.number_of_nodes()}" in browser.find_element(By.ID, "network-status").text


def test_network_as_of_draws_fewer_ties(browser, live_url, project_store) -> None:
    from datetime import date

    old = network.build_graph(project_store, as_of=date(2006, 1, 1))
    open_page(browser, live_url + "/network?asOf=2006-01-01&limit=0")
    box = network_ready(browser)
    assert int(box.get_attribute("data-drawn-ties")) == old.number_of_edges()


PLACES_WITH_COORDINATES = """
SELECT DISTINCT ?p WHERE {
  ?p <http://www.w3.org/2003/01/geo/wgs84_pos#lat> ?lat ;
     <http://www.w3.org/2003/01/geo/wgs84_pos#long> ?long }"""


def visible_markers(driver: Any, css: str) -> set[str]:
    from selenium.webdriver.common.by import By

    return {m.get_attribute("data-iri") for m in driver.find_elements(By.CSS_SELECTOR, css)}


def test_map_draws_the_base_map_every_place_and_zooms(
    browser, live_url, project_store, tmp_path
) -> None:
    """The Natural Earth countries are drawn; zooming in on Lille splits the cluster into
    Lille, Hellemmes and Lomme; every place with coordinates has a marker."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    places = {r["p"].value for r in project_store.query(PLACES_WITH_COORDINATES).dicts()}
    open_page(browser, live_url + "/map?lang=en")
    box = wait_for_attribute(browser, "map", "data-places")
    countries = browser.find_elements(By.CSS_SELECTOR, "#map path.cg-land")
    assert len(countries) == int(box.get_attribute("data-countries")) > 200
    assert int(box.get_attribute("data-places")) == len(places)
    assert browser.find_elements(By.CSS_SELECTOR, "#map .marker-cluster"), "Lille's places crowd"
    assert int(box.get_attribute("data-lines")) >= 1  # Lille–Oujda
    assert len(browser.find_elements(By.CSS_SELECTOR, "#map path.cg-partnership")) >= 1
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", box)
    zoom = browser.execute_script("return coopgraphMap.getZoom()")
    zoom_in = browser.find_element(By.CSS_SELECTOR, "#map .leaflet-control-zoom-in")

    def zoomed(d: Any) -> bool:
        # a click that lands while the clusters still animate can be dropped by Leaflet:
        # click again, as a person would, until the map zooms
        if d.execute_script("return coopgraphMap.getZoom()") > zoom:
            return True
        zoom_in.click()
        return False

    zoom_in.click()
    WebDriverWait(browser, WAIT, poll_frequency=1).until(zoomed)
    WebDriverWait(browser, WAIT).until(
        lambda d: not d.execute_script("return coopgraphMap._animatingZoom")
    )
    browser.execute_script("coopgraphMap.setView([50.635, 3.06], 12, {animate: false})")
    WebDriverWait(browser, WAIT).until(
        lambda d: d.execute_script("return coopgraphMap.getZoom()") == 12
    )
    lille = {p for p in places if p.rsplit("/", 1)[-1] in ("lille", "hellemmes", "lomme")}
    assert len(lille) == 3
    WebDriverWait(browser, WAIT).until(
        lambda d: len(lille & visible_markers(d, "#map .cg-place-marker")) >= 2
    )
    # Lille and its offer share one spot: the cluster spreads them out (spiderfy)
    browser.execute_script(
        "const lille = coopgraphCluster.getLayers().find(m => m.options.title === 'Lille');"
        "coopgraphCluster.zoomToShowLayer(lille, () => {});"
    )
    WebDriverWait(browser, WAIT).until(
        lambda d: lille <= visible_markers(d, "#map .cg-place-marker")
    )
    browser.save_screenshot(str(tmp_path / "map-lille.png"))
    # every place, clustered or not, is in the marker layer
    in_layer = browser.execute_script(
        "return coopgraphCluster.getLayers().map(m => m.options.title)"
    )
    assert len(in_layer) >= len(places)
    assert js_errors(browser) == []


def test_map_as_of_counts_only_offers_valid_then(browser, live_url) -> None:
    """On 2000-01-01 no offer of 2021–2023 is valid: those without a posting date are
    shown as undated, and hidden with the undated ones."""
    from selenium.webdriver.common.by import By

    open_page(browser, live_url + "/map?lang=en&asOf=2000-01-01")
    box = wait_for_attribute(browser, "map", "data-places")
    browser.execute_script("coopgraphMap.setZoom(12, {animate: false})")
    statuses = browser.execute_script(
        "return coopgraphCluster.getLayers().map(m => m.options.icon.options.html)"
    )
    assert not any("status-valid" in html for html in statuses)
    undated = int(box.get_attribute("data-undated"))
    assert undated >= 1
    assert int(box.get_attribute("data-offers")) == undated
    open_page(browser, live_url + "/map?lang=en&asOf=2000-01-01&undated=0")
    box = wait_for_attribute(browser, "map", "data-places")
    assert int(box.get_attribute("data-offers")) == 0
    assert not browser.find_elements(By.CSS_SELECTOR, "#map .cg-offer-marker")
    open_page(browser, live_url + "/map?lang=en&asOf=2022-11-20")
    box = wait_for_attribute(browser, "map", "data-places")
    statuses = browser.execute_script(
        "return coopgraphCluster.getLayers().map(m => m.options.icon.options.html)"
    )
    assert any("status-valid" in html for html in statuses)  # Lille, posted 2022-11-03


def wait_ready(driver: Any) -> None:
    """Wait until the query page has built YASGUI."""
    wait_for_attribute(driver, "query-page", "data-ready")


def editor_value(driver: Any) -> str:
    return driver.execute_script("return coopgraphYasgui.getTab().getYasqe().getValue()")


def result_rows(driver: Any) -> list[Any]:
    """The table rows of the current tab (other tabs keep their own tables)."""
    return driver.execute_script(
        "return Array.from(coopgraphYasgui.getTab().getYasr().resultsEl"
        ".querySelectorAll('table.dataTable tbody tr'))"
    )


def wait_rows(driver: Any) -> list[Any]:
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, WAIT).until(lambda d: result_rows(d))
    return result_rows(driver)


def test_query_typed_with_completion_runs_with_ctrl_enter(
    browser, live_url, project_store, tmp_path
) -> None:
    """Typing ``cg:Asso`` declares ``cg:``, Ctrl+Space offers ``cg:Association`` with its
    label, Ctrl+Enter runs the query; the table shows labels with the IRI on hover."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    open_page(browser, live_url + "/?lang=en")
    wait_ready(browser)
    browser.execute_script("coopgraphYasgui.getTab().getYasqe().setValue('')")
    browser.find_element(By.CSS_SELECTOR, ".CodeMirror").click()
    ActionChains(browser).send_keys("SELECT ?o WHERE { ?o a cg:Asso").perform()
    assert "PREFIX cg: <https://w3id.org/coopgraph/ontology#>" in editor_value(browser)
    ActionChains(browser).key_down(Keys.CONTROL).send_keys(" ").key_up(Keys.CONTROL).perform()
    WebDriverWait(browser, WAIT).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, ".CodeMirror-hints li")
    )
    hints = [h.text for h in browser.find_elements(By.CSS_SELECTOR, ".CodeMirror-hints li")]
    assert hints == ["cg:Association — association / NGO"]
    ActionChains(browser).send_keys(Keys.ENTER, " }").perform()
    assert editor_value(browser).endswith("SELECT ?o WHERE { ?o a cg:Association }")
    ActionChains(browser).key_down(Keys.CONTROL).send_keys(Keys.ENTER).key_up(Keys.CONTROL).perform()
    rows = wait_rows(browser)
    expected = project_store.query(
        "SELECT DISTINCT ?o WHERE { ?o a <https://w3id.org/coopgraph/ontology#Association> }"
    )
    assert len(rows) == len(expected.dicts()) > 0
    links = browser.execute_script(
        "return Array.from(coopgraphYasgui.getTab().getYasr().resultsEl"
        ".querySelectorAll('a.iri'))"
    )
    iris = {a.get_attribute("title") for a in links}
    assert iris == {row["o"].value for row in expected.dicts()}
    afccre = next(a for a in links if a.get_attribute("title").endswith("/org/afccre"))
    assert "AFCCRE" in afccre.text  # the label, not the IRI
    assert afccre.get_attribute("href") == live_url + "/id/org/afccre"
    browser.save_screenshot(str(tmp_path / "query.png"))
    assert js_errors(browser) == []


def test_query_syntax_errors_marked_inline_and_explained(browser, live_url, tmp_path) -> None:
    """A broken query is flagged in the gutter as it is typed; the endpoint's answer names
    the line, the column and the undeclared prefix, and the spot is marked."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    open_page(browser, live_url + "/?lang=fr&query=" + quote("SELECT * WHERE { ?s foo:x ?o }"))
    wait_ready(browser)
    box = browser.find_element(By.ID, "syntax-error")
    WebDriverWait(browser, WAIT).until(lambda _: box.is_displayed())
    assert "Ligne 1, colonne 21" in box.text
    assert "le préfixe « foo: » n'est pas déclaré" in box.text
    assert browser.find_elements(By.CSS_SELECTOR, ".CodeMirror .cg-error-mark")
    browser.execute_script(
        "coopgraphYasgui.getTab().getYasqe().setValue('SELECT ?s WHERE { ?s ?p ?o . ) }')"
    )
    WebDriverWait(browser, WAIT).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, ".CodeMirror .parseErrorIcon")
    )
    browser.save_screenshot(str(tmp_path / "query-error.png"))
    unexpected = [e for e in js_errors(browser) if "400 (BAD REQUEST)" not in e]
    assert unexpected == []


def test_shared_link_is_short_and_runs(browser, live_url, settings) -> None:
    """A gallery example's shared link is a few dozen characters and runs when opened."""
    from coopgraph.queries import load_catalog

    example = next(
        q for q in load_catalog(settings.queries_dir)
        if q.expected() is not None and 0 < len(q.expected().rows) <= 50
    )
    open_page(browser, live_url + f"/?lang=en&example={example.name}")
    wait_ready(browser)
    rows = wait_rows(browser)
    assert len(rows) == len(example.expected().rows) > 0
    assert editor_value(browser) == example.text
    from selenium.webdriver.common.by import By

    link = browser.find_element(By.ID, "share").get_attribute("href")
    assert link == f"{live_url}/?example={quote(example.name, safe='')}&lang=en"
    assert len(link) < 120 < len(example.text)
    assert js_errors(browser) == []


def test_pasted_query_gets_known_prefixes_and_pages(browser, live_url, tmp_path) -> None:
    """A query without its PREFIX lines is completed visibly and runs; 120 rows are shown
    50 at a time, and the next page holds the next rows."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    query = "SELECT ?s ?label WHERE { ?s rdfs:label ?label } ORDER BY ?s ?label LIMIT 120"
    open_page(browser, live_url + "/?lang=en&query=" + quote(query))
    wait_ready(browser)
    rows = wait_rows(browser)
    notice = browser.find_element(By.ID, "added-prefixes")
    assert notice.is_displayed() and "PREFIX rdfs:" in notice.text
    assert editor_value(browser).startswith("PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>")
    assert len(rows) == 50
    first_page = rows[0].text
    browser.execute_script(
        "coopgraphYasgui.getTab().getYasr().rootEl.querySelector('.dt-paging-button.next').click()"
    )
    WebDriverWait(browser, WAIT).until(lambda d: result_rows(d)[0].text != first_page)
    assert result_rows(browser)[0].text.startswith("51")
    browser.save_screenshot(str(tmp_path / "query-pages.png"))
    assert js_errors(browser) == []


@pytest.mark.parametrize("path", ["/", "/network", "/map", "/id/org/ville-de-lille"])
def test_pages_load_nothing_from_outside(browser, live_url, path) -> None:
    """Every resource a page loads (scripts, styles, data, fonts) comes from the server."""
    open_page(browser, live_url + path)
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(browser, WAIT).until(
        lambda d: d.execute_script("return document.readyState") == "complete"
    )
    resources = browser.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)"
    )
    assert resources, "the page loads its scripts and styles"
    assert [r for r in resources if not r.startswith(live_url + "/")] == []


def test_language_is_kept_across_navigations(browser, live_url, tmp_path) -> None:
    """Chosen once, English stays across three navigations by the menu, the switch keeps
    the page's other parameters, and the 404 page is in the chosen language."""
    from selenium.webdriver.common.by import By

    def page_lang() -> str:
        return browser.find_element(By.TAG_NAME, "html").get_attribute("lang")

    open_page(browser, live_url + "/map?asOf=2022-11-20")
    browser.find_element(By.ID, "lang-en").click()
    assert page_lang() == "en"
    assert "asOf=2022-11-20" in browser.current_url  # the switch kept the date
    for link in ("/network", "/stats", "/"):
        browser.find_element(By.CSS_SELECTOR, f'.cg-header nav a[href="{link}"]').click()
        assert page_lang() == "en", link
    browser.get(live_url + "/no/such/page")
    assert page_lang() == "en"
    assert "Page not found" in browser.find_element(By.TAG_NAME, "h1").text
    browser.find_element(By.ID, "lang-fr").click()
    assert page_lang() == "fr"
    assert "Page introuvable" in browser.find_element(By.TAG_NAME, "h1").text
    browser.save_screenshot(str(tmp_path / "not-found-fr.png"))
    browser.find_element(By.CSS_SELECTOR, '.cg-header nav a[href="/stats"]').click()
    assert page_lang() == "fr"


@pytest.fixture
def write_url(web_settings: Any, fresh_store: Store) -> Iterator[str]:
    """The app on a private store (the upload writes), on 127.0.0.1 and a free port."""
    from waitress.server import create_server

    from coopgraph.web import create_app

    server = create_server(create_app(web_settings, store=fresh_store), host="127.0.0.1",
                           port=0, threads=2)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}"
    finally:
        server.close()


def test_spreadsheet_upload_fix_and_upload_again(
    browser, write_url, fresh_store, tmp_path
) -> None:
    """Upload a sheet with a wrong row, download the annotated sheet, fix the cell and
    upload again: the first row is updated, not duplicated, and the fixed one is added."""
    from selenium.webdriver.common.by import By

    from test_upload import BAD, GOOD, sheet, titles

    def upload(path: Path) -> Any:
        open_page(browser, write_url + "/upload?lang=en")
        browser.find_element(By.ID, "sheet").send_keys(str(path))
        browser.find_element(By.ID, "token").send_keys("alice-secret-token")
        browser.find_element(By.ID, "upload").click()
        return wait_for_attribute(browser, "report", "data-added")

    first = tmp_path / "offers.csv"
    first.write_bytes(sheet(GOOD, BAD))
    report = upload(first)
    assert report.get_attribute("data-added") == "1"
    assert report.get_attribute("data-conforms") == "false"
    annotated = browser.execute_script(
        "return fetch(document.getElementById('annotated').href).then(r => r.text())"
    )
    assert "end of April" in annotated and "Deadline" in annotated
    browser.save_screenshot(str(tmp_path / "upload-errors.png"))
    fixed = tmp_path / "offers-fixed.csv"
    fixed.write_bytes(sheet({**GOOD, "Job title": "Cooperation officer (corrected)"},
                            {**BAD, "Deadline": "2024-04-30"}))
    report = upload(fixed)
    assert report.get_attribute("data-added") == "2"
    assert report.get_attribute("data-conforms") == "true"
    assert "row 3: updated" in report.text and "row 4: added" in report.text
    assert titles(fresh_store, "upload-test-a") == ["Cooperation officer (corrected)"]
    browser.save_screenshot(str(tmp_path / "upload-fixed.png"))
    assert js_errors(browser) == []


def test_results_as_a_chart(browser, live_url, tmp_path) -> None:
    """A count per class can be seen as a bar chart, one bar per row."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    query = "SELECT ?class (COUNT(?s) AS ?n) WHERE { ?s a ?class } GROUP BY ?class LIMIT 12"
    open_page(browser, live_url + "/?lang=en&query=" + quote(query))
    wait_ready(browser)
    rows = wait_rows(browser)
    buttons = browser.execute_script(
        "return Array.from(coopgraphYasgui.getTab().getYasr().rootEl"
        ".querySelectorAll('.yasr_btn')).filter(b => b.textContent.includes('Chart'))"
    )
    assert buttons, "the chart view is offered"
    buttons[0].click()
    bars = WebDriverWait(browser, WAIT).until(
        lambda d: d.execute_script(
            "return Array.from(coopgraphYasgui.getTab().getYasr().resultsEl"
            ".querySelectorAll('svg.cg-chart rect'))"
        )
    )
    assert len(bars) == len(rows) == 12
    assert browser.find_elements(By.CSS_SELECTOR, "svg.cg-chart text")
    browser.save_screenshot(str(tmp_path / "query-chart.png"))
    assert js_errors(browser) == []


def test_scripts_speak_the_page_language_with_plurals(browser, live_url, project_store) -> None:
    """The scripts' texts come from the catalogues: the Dutch network page counts
    "actoren" and "banden", the French map "lieux" and "offres"; no English is left."""
    from selenium.webdriver.common.by import By

    graph = network.build_graph(project_store)
    open_page(browser, live_url + "/network?lang=nl&limit=0")
    network_ready(browser)
    status = browser.find_element(By.ID, "network-status").text
    assert f"{graph.number_of_nodes()} actoren" in status, status
    assert f"{graph.number_of_edges()} banden" in status, status
    open_page(browser, live_url + "/map?lang=fr")
    wait_for_attribute(browser, "map", "data-places")
    status = browser.find_element(By.ID, "map-status").text
    assert re.search(r"\d+ lieux, \d+ offres?, \d+ partenariats?", status), status
    assert "places" not in status and "offers" not in status
    assert js_errors(browser) == []
