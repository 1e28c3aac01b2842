"""Headless Chromium on the real pages: the network and the map are drawn, the query page
runs a gallery example.

Needs the Debian packages ``chromium`` and ``chromium-driver`` (``apt-get install -y
chromium chromium-driver``; ``.ci/run`` installs them) and Selenium from PyPI. Selenium is
given both binaries, so it never downloads a browser or a driver. The app runs in
waitress on 127.0.0.1 and a free port, in a thread, on the session's project store.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from coopgraph import network
from coopgraph.store import Store

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


def test_network_page_draws_every_node(browser, live_url, project_store) -> None:
    from selenium.webdriver.common.by import By

    graph = network.build_graph(project_store)
    open_page(browser, live_url + "/network")
    svg = wait_for_attribute(browser, "network", "data-drawn-nodes")
    circles = browser.find_elements(By.CSS_SELECTOR, "#network circle.node")
    assert len(circles) == int(svg.get_attribute("data-drawn-nodes")) == graph.number_of_nodes()
    assert int(svg.get_attribute("data-drawn-ties")) == graph.number_of_edges()
    drawn = {c.get_attribute("data-iri") for c in circles}
    assert drawn == set(graph.nodes)
    assert js_errors(browser) == []


def test_network_filter_hides_a_tie_type(browser, live_url, project_store) -> None:
    from selenium.webdriver.common.by import By

    open_page(browser, live_url + "/network")
    svg = wait_for_attribute(browser, "network", "data-drawn-nodes")
    before = int(svg.get_attribute("data-visible-links"))
    lines = browser.find_elements(By.CSS_SELECTOR, "#network line.link[data-type=funding]")
    assert lines, "the project has funding ties"
    browser.find_element(By.CSS_SELECTOR, "#network-filter input[value=funding]").click()
    assert int(svg.get_attribute("data-visible-links")) == before - len(lines)
    hidden = browser.find_elements(By.CSS_SELECTOR, "#network line.link.hidden")
    assert {h.get_attribute("data-type") for h in hidden} == {"funding"}


def test_network_click_opens_the_entity_page(browser, live_url) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    open_page(browser, live_url + "/network")
    wait_for_attribute(browser, "network", "data-drawn-nodes")
    lille = browser.find_element(
        By.CSS_SELECTOR, '#network circle.node[data-iri$="/org/ville-de-lille"]'
    )
    lille.click()
    WebDriverWait(browser, WAIT).until(lambda d: "/id/" in d.current_url)
    assert browser.current_url == live_url + "/id/org/ville-de-lille"


def test_network_as_of_draws_fewer_ties(browser, live_url, project_store) -> None:
    from datetime import date

    old = network.build_graph(project_store, as_of=date(2006, 1, 1))
    open_page(browser, live_url + "/network?asOf=2006-01-01")
    svg = wait_for_attribute(browser, "network", "data-drawn-nodes")
    assert int(svg.get_attribute("data-drawn-ties")) == old.number_of_edges()


def located_places(graph) -> set[str]:
    return {d["location"] for _, d in graph.nodes(data=True) if "location" in d}


def test_map_page_draws_markers_lines_and_offers(browser, live_url, project_store) -> None:
    from selenium.webdriver.common.by import By

    graph = network.build_graph(project_store)
    open_page(browser, live_url + "/map")
    svg = wait_for_attribute(browser, "map", "data-markers")
    markers = browser.find_elements(By.CSS_SELECTOR, "#map circle.marker")
    assert len(markers) == int(svg.get_attribute("data-markers"))
    assert {m.get_attribute("data-iri") for m in markers} == located_places(graph)
    located_offers = [
        d for _, b, d in graph.edges(data=True)
        if d["type"] == "employment" and "location" in graph.nodes[d["target"]]
    ]
    offers = browser.find_elements(By.CSS_SELECTOR, "#map path.offer")
    assert len(offers) == int(svg.get_attribute("data-offers")) == len(located_offers)
    # Lille–Oujda: the cooperation agreement is a line between the two cities
    lines = browser.find_elements(By.CSS_SELECTOR, "#map line.map-line")
    assert len(lines) == int(svg.get_attribute("data-lines")) >= 1
    assert js_errors(browser) == []


def test_query_page_runs_a_gallery_example(browser, live_url) -> None:
    """The query page loads a gallery example with a known answer into the editor, runs
    it, and shows as many rows as the example's expected table."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    open_page(browser, live_url + "/")
    examples = [
        li for li in browser.find_elements(By.CSS_SELECTOR, "#gallery li.cg-example")
        if li.find_elements(By.CSS_SELECTOR, "details.cg-expected")
    ]
    assert examples, "the gallery has examples with an expected answer"
    example = examples[0]
    expected_rows = len(example.find_elements(By.CSS_SELECTOR, "details.cg-expected tbody tr"))
    example.find_element(By.CSS_SELECTOR, "button.cg-load-example").click()
    editor = browser.find_element(By.ID, "query")
    query = example.find_element(By.CSS_SELECTOR, "button.cg-load-example").get_attribute(
        "data-query"
    )
    assert editor.get_property("value") == query
    browser.find_element(By.ID, "run").click()
    WebDriverWait(browser, WAIT).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, "#results table")
        or "error" in (d.find_element(By.ID, "status").text or "").lower()
    )
    rows = browser.find_elements(By.CSS_SELECTOR, "#results table tbody tr")
    assert len(rows) == expected_rows > 0
    assert js_errors(browser) == []
