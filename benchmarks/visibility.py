"""A write seen by the network routes over HTTP (issue 12, item 5: ``/api/network.json``,
the exports and ``/ranking`` answer ≤ 2 s after a write, with the write visible).

On a server already started (``benchmarks/routes.py`` calls :func:`measure` after its 20
writes, so the view is still patching them), with a write token:

1. ``PUT /entries/routes-visibility`` of ``tests/data/valid/new-organisation.ttl`` (a new
   organisation, member of the Eurométropole: a new node and a new membership tie), then
   ``GET /api/network.json?focus=<new organisation>&depth=1`` every 20 ms until it
   answers 200 with the tie: the time from the write's answer to that is the figure;
2. ``DELETE`` it and poll until the focus answers 404: the removal's figure;
3. the same ``PUT`` again, then each network route once at once (the answer a client
   gets right after a write, whichever build it comes from), then the ``DELETE``.

Every figure is printed beside the 2 s target; nothing is left in the store but the
activity log's records.
"""

from __future__ import annotations

import http.client
import json
import time
import urllib.parse
from typing import Any

from coopgraph.settings import PROJECT_ROOT
from coopgraph.vocab import ID
from crash import request  # one HTTP request on a fresh connection

TARGET = 2.0
ENTRY = "routes-visibility"
NEW_ORG = ID["org/test-commune-tournai"]
TIE_TO = ID["org/eurometropole"]
BODY = (PROJECT_ROOT / "tests" / "data" / "valid" / "new-organisation.ttl").read_bytes()
#: the network routes timed right after a write
ROUTES = (
    "/api/network.json?limit=200",
    "/api/network.json?focus=" + urllib.parse.quote(TIE_TO, safe="") + "&depth=1",
    "/api/network.json",
    "/ranking",
    "/export/network.graphml",
    "/export/network.gexf",
    "/export/network.zip",
    "/export/network.jsonld",
)
_FOCUS = "/api/network.json?focus=" + urllib.parse.quote(NEW_ORG, safe="") + "&depth=1"


def _tied(data: bytes) -> bool:
    """Does a focus answer hold the new organisation's tie to the Eurométropole?"""
    links = json.loads(data).get("links", [])
    return any({link.get("source"), link.get("target")} == {NEW_ORG, TIE_TO} for link in links)


def _until(port: int, seen: Any, timeout: float) -> float | None:
    """Seconds until ``seen(status, body)`` holds for the focus answer (``None``: not
    within ``timeout``)."""
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        status, data = request(port, "GET", _FOCUS, timeout=timeout)
        if seen(status, data):
            return time.perf_counter() - start
        time.sleep(0.02)
    return None


def measure(port: int, auth: dict[str, str], timeout: float) -> dict[str, Any]:
    """The figures of the module doc, as ``{"visible_s", "gone_s", "routes": {path:
    seconds}, "errors": [...]}``."""
    put = {**auth, "Content-Type": "text/turtle"}
    out: dict[str, Any] = {"routes": {}, "errors": []}
    status, data = request(port, "PUT", f"/entries/{ENTRY}", BODY, put, timeout=timeout)
    if status not in (200, 201):
        out["errors"].append(f"PUT: HTTP {status} {data[:200]!r}")
        return out
    out["visible_s"] = _until(port, lambda s, d: s == 200 and _tied(d), timeout)
    status, _ = request(port, "DELETE", f"/entries/{ENTRY}", None, auth, timeout=timeout)
    out["gone_s"] = _until(port, lambda s, d: s == 404, timeout) if status == 200 else None
    status, data = request(port, "PUT", f"/entries/{ENTRY}", BODY, put, timeout=timeout)
    if status not in (200, 201):
        out["errors"].append(f"PUT again: HTTP {status} {data[:200]!r}")
        return out
    for path in ROUTES:
        start = time.perf_counter()
        try:
            status, _ = request(port, "GET", path, timeout=timeout)
        except (OSError, http.client.HTTPException) as exc:
            out["errors"].append(f"GET {path}: {type(exc).__name__}")
            continue
        out["routes"][path] = time.perf_counter() - start
        if status != 200:
            out["errors"].append(f"GET {path}: HTTP {status}")
    request(port, "DELETE", f"/entries/{ENTRY}", None, auth, timeout=timeout)
    return out


def lines(figures: dict[str, Any]) -> list[str]:
    """One printed line per figure, beside the target."""

    def shown(seconds: float | None, what: str) -> str:
        if seconds is None:
            return f"{what:<52} {'n/a':>9}  ≤ {TARGET * 1000:.0f} ms  MISSED (timed out)"
        verdict = "ok" if seconds <= TARGET else "MISSED"
        return f"{what:<52} {seconds * 1000:7.0f} ms  ≤ {TARGET * 1000:.0f} ms  {verdict}"

    out = [shown(figures.get("visible_s"), "network view shows a write (PUT → focus has it)"),
           shown(figures.get("gone_s"), "network view shows a removal (DELETE → 404)")]
    out += [shown(seconds, f"  right after a write: {path[:40]}")
            for path, seconds in figures.get("routes", {}).items()]
    out += [f"  visibility error: {error}" for error in figures.get("errors", [])]
    return out
