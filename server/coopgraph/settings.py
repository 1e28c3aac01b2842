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

from coopgraph.auth import TOKEN_NAME, TOKEN_SECRET
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
    #: Connections kept open at once (slow or idle ones included); well above ``threads``
    #: so that slow clients cannot take every slot (issue 16).
    connection_limit: int = 4096
    #: Seconds a connection may stay silent before it is closed.
    channel_timeout: float = 30.0
    #: Memory (MiB of address space) the store process may use; a query over it is
    #: stopped with 503 and the process restarts. 0: no limit.
    memory_limit_mib: int = 3072
    #: Seconds a write waits for the writes queued before it; then 503.
    write_wait: float = 60.0
    #: Access log: ``-`` (stderr), a file path, or empty (none).
    access_log: str = "-"
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
    "connection_limit": int,
    "channel_timeout": float,
    "memory_limit_mib": int,
    "write_wait": float,
    "access_log": str,
    "lang": str,
    "search_index": str,
    "cache_dir": str,
}


def parse_tokens(text: str) -> dict[str, str]:
    """``"alice:secret-one, bob:secret-two"`` → ``{"alice": …, "bob": …}``, checked by
    :func:`check_tokens`. An entry is named by its position, never by its text (which
    may be a secret pasted without its name).

    >>> parse_tokens("alice:secret-one, bob:secret-two")
    {'alice': 'secret-one', 'bob': 'secret-two'}

    :raises StartupError: an entry is not ``NAME:SECRET``, or :func:`check_tokens` fails.
    """
    tokens: dict[str, str] = {}
    for number, item in enumerate(filter(None, (p.strip() for p in text.split(","))), 1):
        name, sep, secret = item.partition(":")
        if not sep or not name.strip():
            raise StartupError(f"token entry #{number}: expected NAME:SECRET (secret not shown)")
        if name.strip() in tokens:
            raise StartupError(f"token entry #{number}: the name {name.strip()!r} is given twice")
        tokens[name.strip()] = secret.strip()
    return check_tokens(tokens)


def check_tokens(tokens: Any) -> dict[str, str]:
    """Refuse at start what every write would refuse later (issue 16): names that cannot
    become ``cgid:agent/<name>``, short or unsendable secrets, one secret under two names
    (provenance could not tell who wrote). Messages name the token, never its secret.

    :raises StartupError: the first problem found.
    """
    if not isinstance(tokens, dict):
        raise StartupError("tokens: expected a table NAME = SECRET or a 'NAME:SECRET,…' string")
    owners: dict[str, str] = {}
    for name, secret in tokens.items():
        if not isinstance(name, str) or not TOKEN_NAME.fullmatch(name):
            raise StartupError(
                f"token name {str(name)[:64]!r} is unusable: use 1-64 ASCII letters, digits, "
                "'.', '_' or '-' (it becomes the IRI cgid:agent/<name>)"
            )
        if not isinstance(secret, str) or len(secret) < 8 or not TOKEN_SECRET.fullmatch(secret):
            raise StartupError(
                f"token {name!r}: the secret must be 8+ printable ASCII characters without "
                "spaces or commas (secret not shown)"
            )
        if secret in owners:
            raise StartupError(
                f"tokens {owners[secret]!r} and {name!r} share one secret: give each its own"
            )
        owners[secret] = name
    return dict(tokens)


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
        elif "tokens" in values:
            values["tokens"] = check_tokens(values["tokens"])
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
