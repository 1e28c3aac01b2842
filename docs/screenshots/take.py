"""Take the README's screenshots from the real app: the project's data in an in-memory
store, served by waitress on 127.0.0.1 (free port), driven by headless Chromium (the
Debian ``chromium`` and ``chromium-driver`` packages, as for the browser tests).

    .venv/bin/python docs/screenshots/take.py      # writes docs/screenshots/*.png
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from urllib.parse import quote

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.support.ui import WebDriverWait
from waitress.server import create_server

from coopgraph.load import load_project
from coopgraph.settings import Settings
from coopgraph.store import open_store
from coopgraph.web import create_app

HERE = Path(__file__).resolve().parent
QUERY = """PREFIX schema: <http://schema.org/>
SELECT ?offer ?employer ?place ?deadline WHERE {
  ?offer a schema:JobPosting ; schema:hiringOrganization ?employer ;
         schema:jobLocation ?place .
  OPTIONAL { ?offer schema:validThrough ?deadline }
} ORDER BY ?deadline"""
PAGES = {
    "query": ("/?lang=en&query=" + quote(QUERY), "return !!document.querySelector("
              "'.yasr table.dataTable tbody tr')"),
    "network": ("/network?lang=en", "return !!document.getElementById('network')"
                ".dataset.drawnNodes"),
    "map": ("/map?lang=en", "return !!document.getElementById('map').dataset.places"),
    "entity": ("/id/offer/002-so-cooperation-aict?lang=en", "return true"),
}


def main() -> None:
    settings = Settings(store=":memory:")
    store = open_store(":memory:")
    load_project(store, settings)
    server = create_server(create_app(settings, store=store), host="127.0.0.1", port=0)
    threading.Thread(target=server.run, daemon=True).start()
    base = f"http://127.0.0.1:{server.effective_port}"
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless", "--no-sandbox", "--window-size=1280,860",
                 "--enable-unsafe-swiftshader", "--hide-scrollbars"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options,
                              service=Service(executable_path="/usr/bin/chromedriver"))
    try:
        for name, (path, ready) in PAGES.items():
            driver.get(base + path)
            WebDriverWait(driver, 60).until(lambda d, r=ready: d.execute_script(r))
            time.sleep(1.5)  # let the layout and the tiles of the base map settle
            if name in ("network", "map"):
                driver.execute_script(
                    "document.querySelector('.rs-canvas').scrollIntoView({block: 'end'})")
                time.sleep(0.5)
            driver.save_screenshot(str(HERE / f"{name}.png"))
            print(HERE / f"{name}.png")
    finally:
        driver.quit()
        server.close()


if __name__ == "__main__":
    main()
