"""Settings: defaults < TOML file < environment (``COOPGRAPH_*``) < command-line flags.

One frozen :class:`Settings` value is built at startup and handed to the store, the
pipeline and the web app; no module reads the environment on its own.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from coopgraph.errors import StartupError

#: The checkout that holds ontology/, shapes/, data/ and queries/ (server/coopgraph/ → root).
PROJECT_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Settings:
    """Everything configurable. Field docs are the reference (README lists them)."""

    #: Where the data lives: a directory (embedded persistent store), ``:memory:``, or
    #: ``sparql+http://host:port/path`` for a remote SPARQL 1.1 store.
    store: str = ".coopgraph/store"
    #: Update endpoint of a remote store, when it differs from the query endpoint.
    update_url: str | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    #: Seconds a query may run before its worker is stopped.
    query_timeout: float = 30.0
    #: Maximum rows (SELECT) or triples (CONSTRUCT/DESCRIBE) returned; more is flagged.
    result_limit: int = 100_000
    #: Largest accepted request body, in bytes.
    max_body_bytes: int = 10 * 1024 * 1024
    #: Threads answering HTTP requests.
    threads: int = 8
    #: Named write tokens: name → secret. Provenance records the name.
    tokens: dict[str, str] = field(default_factory=dict)
    #: Hosts a SERVICE clause may call (none by default).
    allowed_service_hosts: tuple[str, ...] = ()
    #: Default language for messages and pages.
    lang: str = "fr"
    #: Folder holding ontology/, shapes/, data/ and queries/.
    home: Path = PROJECT_ROOT
    #: The search index file (SQLite); default: ``search-index.sqlite3`` inside an
    #: on-disk store, in memory for ``:memory:``, ``.coopgraph/search-<hash>.sqlite3``
    #: for a remote store; ``:memory:`` keeps it in memory (rebuilt at each start).
    search_index: str | None = None
    #: Folder for caches worth keeping between starts (the ontology's owlrl closure);
    #: safe to delete.
    cache_dir: str = ".coopgraph/cache"

    @property
    def ontology_dir(self) -> Path:
        return self.home / "ontology"

    @property
    def shapes_dir(self) -> Path:
        return self.home / "shapes"

    @property
    def data_dir(self) -> Path:
        return self.home / "data"

    @property
    def queries_dir(self) -> Path:
        return self.home / "queries"

    def replace(self, **changes: Any) -> Settings:
        """A copy with ``changes`` applied, ignoring ``None`` values (unset flags)."""
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})


_ENV_FIELDS: dict[str, type] = {
    "store": str,
    "update_url": str,
    "host": str,
    "port": int,
    "query_timeout": float,
    "result_limit": int,
    "max_body_bytes": int,
    "threads": int,
    "lang": str,
    "search_index": str,
    "cache_dir": str,
}


def parse_tokens(text: str) -> dict[str, str]:
    """``"alice:s3cret, bob:other"`` → ``{"alice": "s3cret", "bob": "other"}``.

    >>> parse_tokens("alice:s3cret, bob:other")
    {'alice': 's3cret', 'bob': 'other'}
    """
    tokens: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, sep, secret = item.partition(":")
        if not sep or not name or len(secret) < 8:
            raise StartupError(
                f"bad token entry {name!r}: expected NAME:SECRET with a secret of 8+ characters"
            )
        tokens[name] = secret
    return tokens


def load_settings(config_file: str | Path | None = None, **flags: Any) -> Settings:
    """Build Settings from defaults, an optional TOML file, the environment and flags.

    :param config_file: TOML file with a ``[coopgraph]`` table (or ``COOPGRAPH_CONFIG``).
    :param flags: values from the command line; ``None`` means "not given".
    :raises StartupError: unreadable config file or malformed value.
    """
    values: dict[str, Any] = {}
    config_file = config_file or os.environ.get("COOPGRAPH_CONFIG")
    if config_file:
        try:
            table = tomllib.loads(Path(config_file).read_text("utf-8")).get("coopgraph", {})
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise StartupError(f"cannot read config file {config_file}: {exc}") from exc
        values.update(table)
        if isinstance(values.get("tokens"), str):
            values["tokens"] = parse_tokens(values["tokens"])
    for name, kind in _ENV_FIELDS.items():
        raw = os.environ.get("COOPGRAPH_" + name.upper())
        if raw is not None:
            try:
                values[name] = kind(raw)
            except ValueError as exc:
                raise StartupError(f"COOPGRAPH_{name.upper()}={raw!r}: {exc}") from exc
    if os.environ.get("COOPGRAPH_TOKENS"):
        values["tokens"] = parse_tokens(os.environ["COOPGRAPH_TOKENS"])
    if os.environ.get("COOPGRAPH_ALLOWED_SERVICE_HOSTS"):
        values["allowed_service_hosts"] = tuple(
            h.strip() for h in os.environ["COOPGRAPH_ALLOWED_SERVICE_HOSTS"].split(",") if h.strip()
        )
    if "home" in values:
        values["home"] = Path(values["home"])
    if "allowed_service_hosts" in values:
        values["allowed_service_hosts"] = tuple(values["allowed_service_hosts"])
    known = {f.name for f in dataclasses.fields(Settings)}
    unknown = set(values) - known
    if unknown:
        raise StartupError(f"unknown setting(s): {', '.join(sorted(unknown))}")
    return Settings(**values).replace(**flags)
