"""How long the query page takes to show a large answer, in headless Chromium.

The issue that brought YASGUI measured 2–4.6 s to render 6,507 rows in the old page (the
server answered in 0.19 s). Here the page runs a query of ``--rows`` rows (default 6,500)
and the time from running it to the first page of the table drawn is measured in the
browser (``performance.now()``), five times; the median is printed beside its target.

    .venv/bin/python benchmarks/query_page.py
"""

from __future__ import annotations

import argparse
import os
import statistics
import threading
from urllib.parse import quote

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.support.ui import WebDriverWait
from waitress.server import create_server

from coopgraph.load import load_project
from coopgraph.settings import Settings
from coopgraph.store import open_store
from coopgraph.web import create_app

TARGET_SECONDS = 1.0
RUN = """
const done = arguments[arguments.length - 1];
const tab = coopgraphYasgui.getTab();
const results = tab.getYasr().resultsEl;
results.replaceChildren();
const start = performance.now();
tab.query();
(function wait() {
  if (results.querySelector('table.dataTable tbody tr')) {
    done([performance.now() - start, results.querySelectorAll('tbody tr').length]);
  } else { setTimeout(wait, 5); }
})();
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=6500)
    args = parser.parse_args()
    settings = Settings(store=":memory:", result_limit=max(args.rows, 10000))
    store = open_store(":memory:")
    load_project(store, settings)
    server = create_server(create_app(settings, store=store), host="127.0.0.1", port=0)
    threading.Thread(target=server.run, daemon=True).start()
    query = f"SELECT ?s ?p ?o WHERE {{ ?s ?p ?o }} LIMIT {args.rows}"
    url = f"http://127.0.0.1:{server.effective_port}/?lang=en&query={quote(query)}"
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless", "--no-sandbox", "--window-size=1280,900"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options,
                              service=Service(executable_path="/usr/bin/chromedriver"))
    driver.set_script_timeout(120)
    try:
        driver.get(url)
        WebDriverWait(driver, 60).until(lambda d: d.execute_script(
            "return !!document.querySelector('.yasr table.dataTable tbody tr')"))
        times, shown = [], 0
        for _ in range(5):
            elapsed, shown = driver.execute_async_script(RUN)
            times.append(elapsed / 1000)
    finally:
        driver.quit()
        server.close()
    median = statistics.median(times)
    print(f"rows asked: {args.rows}; rows on the first table page: {shown}")
    print(f"run → first table page drawn, median of 5: {median:.2f} s "
          f"(target < {TARGET_SECONDS:.1f} s; old page: 2–4.6 s)")
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
