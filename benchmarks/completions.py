"""``/completions.json`` (class and property completion of the query page) on a given store,
beside its target (issue 13: ≤ 200 ms at 1M triples).

Starts ``coopgraph serve`` on the store (127.0.0.1, a free port), then times:

* the first class and the first property completion after the start (what the first
  visitor typing waits for);
* ``--runs`` completions of each kind for a few typed prefixes (median, p99);
* the first completion after a write (``PUT /entries/<id>`` of ``new-offer.ttl``, removed
  again afterwards): the store's generation changed, so the lists are renewed.

Prints one line per figure: median, p99, target, verdict. Nothing else is touched.

    python benchmarks/completions.py --store /work/bench/i18n/store1m --runs 5
"""

from __future__ import annotations

import argparse
import http.client
import json
import time
import urllib.parse
from pathlib import Path
from typing import Any

from common import HttpClient, Samples, loadavg, machine, stop
from routes import TOKEN, offer_turtle, start_server

TARGET = 0.200
TYPED = ("", "org", "cg:", "schema:n", "Organi", "label")


def timed_get(port: int, path: str, timeout: float) -> tuple[float, int, Any]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    start = time.perf_counter()
    try:
        conn.request("GET", path, headers={"Accept": "application/json"})
        response = conn.getresponse()
        body = response.read()
    finally:
        conn.close()
    return time.perf_counter() - start, response.status, json.loads(body or b"null")


def completion(kind: str, typed: str) -> str:
    return "/completions.json?" + urllib.parse.urlencode({"kind": kind, "q": typed, "lang": "fr"})


def line(name: str, samples: Samples) -> str:
    r = samples.to_dict()
    median, p99 = r.get("median_s"), r.get("p99_s")
    verdict = "n/a" if median is None else ("ok" if median <= TARGET else "MISSED")
    shown = [f"{s * 1000:.0f} ms" if s is not None else "n/a" for s in (median, p99)]
    return f"{name:<46} {shown[0]:>9} {shown[1]:>9}  ≤ {TARGET * 1000:.0f} ms  {verdict}"


def write_and_remove(port: int, timeout: float) -> str:
    """``PUT`` one entry (the store's generation moves on); returns its id for removal."""
    secret = TOKEN.split(":", 1)[1]
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("PUT", "/entries/completions-bench", offer_turtle(0),
                     {"Authorization": f"Bearer {secret}", "Content-Type": "text/turtle"})
        response = conn.getresponse()
        response.read()
        assert response.status in (200, 201), response.status
    finally:
        conn.close()
    return "completions-bench"


def remove(port: int, entry: str, timeout: float) -> None:
    secret = TOKEN.split(":", 1)[1]
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("DELETE", f"/entries/{entry}", None, {"Authorization": f"Bearer {secret}"})
        conn.getresponse().read()
    finally:
        conn.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", required=True, help="a disk store (a copy: it is written)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--timeout", type=float, default=120.0)
    args = parser.parse_args(argv)
    log = Path(args.store).with_name(Path(args.store).name + "-completions.log")
    print(f"machine: {machine()['cpu']}, {machine()['nproc']} cores; load {loadavg()}",
          flush=True)
    proc, port, started = start_server(args.store, log)
    client = HttpClient(port, timeout=5)
    try:
        print(f"coopgraph serve ready in {started:.1f} s", flush=True)
        for kind in ("class", "property"):
            first = Samples()
            elapsed, status, body = timed_get(port, completion(kind, ""), args.timeout)
            first.times.append(elapsed)
            print(line(f"first {kind} completion after the start", first)
                  + f"  ({len(body or [])} shown, HTTP {status})", flush=True)
        for kind in ("class", "property"):
            warm = Samples()
            for typed in TYPED:
                for _ in range(args.runs):
                    warm.times.append(timed_get(port, completion(kind, typed), args.timeout)[0])
            print(line(f"{kind} completion, {len(TYPED)} typed texts", warm), flush=True)
        entry = write_and_remove(port, args.timeout)
        try:
            for kind in ("class", "property"):
                after = Samples()
                after.times.append(timed_get(port, completion(kind, "org"), args.timeout)[0])
                print(line(f"first {kind} completion after a write", after), flush=True)
        finally:
            remove(port, entry, args.timeout)
        print(f"load after: {loadavg()}", flush=True)
    finally:
        client.close()
        stop(proc)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
