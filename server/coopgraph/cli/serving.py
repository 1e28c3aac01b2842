"""``coopgraph serve`` and ``coopgraph load``: the store brought up to date, then served."""

from __future__ import annotations

import gc
import importlib
import threading
from contextlib import closing
from pathlib import Path

import click

from coopgraph.cli.common import (
    StoreFlags,
    config_option,
    reports_errors,
    store_option,
    store_options,
    tell,
)


@click.command()
@store_option
@config_option
@click.option("--host", default=None, help="Address to bind (default 127.0.0.1).")
@click.option("-p", "--port", type=int, default=None, help="Port (default 8000; 0 = a free port).")
@click.option("--threads", type=int, default=None, help="Threads answering requests.")
@reports_errors
def serve(
    store: str | None,
    config: str | None,
    host: str | None,
    port: int | None,
    threads: int | None,
) -> None:
    """Serve the SPARQL endpoint, the linked-data pages and the query page over HTTP.

    Opens the store (a disk store in a supervised child process), loads the project files
    that changed, then serves until interrupted; the URL is printed on stderr.
    """
    # The web app's modules (Flask, networkx, the blueprints: about a second) and the
    # validator's are imported in a thread while this one opens the store and its child
    # process starts, which mostly waits on disk and on the child: `serve` is ready that
    # much sooner, and its first write does not wait for pyshacl's import.
    web = threading.Thread(target=_import_web, daemon=True, name="import-web")
    web.start()
    from coopgraph.load import load_project
    from coopgraph.reason import Reasoner
    from coopgraph.search import attach
    from coopgraph.store import open_store

    settings = StoreFlags(store=store, config=config).settings(host=host, port=port,
                                                               threads=threads)

    def progress(name: str) -> None:
        tell(f"loading {name}")

    in_child = settings.store == ":memory:" or settings.store.startswith("sparql+")
    if not in_child:
        # Load changed project files in this process first: a reload rematerialises every
        # inference, which reads the whole store, and at 1M triples that is more than the
        # serving child's memory budget (memory_limit_mib) is meant for.
        direct = open_store(settings.store)
        try:
            load_project(direct, settings, progress=progress)
        finally:
            direct.close()
            del direct
            gc.collect()  # the RocksDB lock goes with the last reference
    st = open_store(
        settings.store, update_url=settings.update_url, isolated=True,
        memory_limit_mib=settings.memory_limit_mib,
    )
    with closing(st):
        if in_child:
            load_project(st, settings, progress=progress)
        # A stale search index is rebuilt in the background: serving starts at once.
        index = attach(st, settings.search_index, background=True)
        if index.state == "building":
            tell("coopgraph: search index is being rebuilt in the background")
        # the ontology's closure now, from the cache when it was computed before, so
        # that the first write does not pay for owlrl
        Reasoner(st, cache_dir=Path(settings.cache_dir)).warm()
        web.join()
        from coopgraph.web.serve import run_server

        run_server(settings, st)


def _import_web() -> None:
    """The web app's modules and the validator's (pyshacl, rdflib: 0.75 s), which the
    warm-up and the first write need: imported while the store opens."""
    importlib.import_module("coopgraph.web.serve")
    importlib.import_module("coopgraph.validate")


@click.command()
@store_options
@click.option("--reload", is_flag=True, help="Reload every project file, even unchanged ones.")
@reports_errors
def load(where: StoreFlags, reload: bool) -> None:
    """Load ontology/, shapes/ and data/ into the store, rebuild inferences, print a summary.

    Files already loaded with the same content are skipped, so running it twice is cheap.
    """
    from coopgraph.load import load_project
    from coopgraph.store import open_store
    from coopgraph.summary import graph_summary

    settings = where.settings()
    with closing(open_store(settings.store, update_url=settings.update_url)) as st:
        result = load_project(st, settings, force=reload,
                              progress=lambda n: tell(f"loading {n}"))
        tell(f"loaded {len(result.loaded)} file(s), {len(result.unchanged)} unchanged, "
             f"{result.inferred} inferred triple(s)")
        click.echo(graph_summary(st))


COMMANDS = [serve, load]
