"""What every command shares: the error wrapper, the option stacks, opening stores.

Each option is declared once here; commands stack them. Stores are handed out as
context managers, so a command closes its store on every path (errors included).
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import click

from coopgraph.errors import CoopgraphError
from coopgraph.settings import Settings, load_settings

if TYPE_CHECKING:
    from coopgraph.store import Store

F = TypeVar("F", bound=Callable[..., Any])

LANGUAGES = ("fr", "en", "nl")


def reports_errors(func: F) -> F:
    """Turn any error into one stderr line and the README's exit code, never a traceback
    (issue 16): a CoopgraphError its own code, an unreadable file 2, anything else 4. A
    write that failed says whether it changed the store."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except CoopgraphError as exc:
            click.echo(f"coopgraph: {exc.message}{_outcome(exc)}", err=True)
            sys.exit(exc.exit_code)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except (OSError, UnicodeDecodeError) as exc:
            where = getattr(exc, "filename", None)
            what = getattr(exc, "strerror", None) or str(exc)
            click.echo(f"coopgraph: {where + ': ' if where else ''}{what}{_outcome(exc)}",
                       err=True)
            sys.exit(2 if isinstance(exc, FileNotFoundError | IsADirectoryError |
                                     PermissionError | UnicodeDecodeError) else 4)
        except Exception as exc:  # noqa: BLE001 - a bug: one line, exit 4, no traceback
            click.echo(f"coopgraph: internal error ({type(exc).__name__}: {exc}){_outcome(exc)}",
                       err=True)
            sys.exit(4)

    return wrapper  # type: ignore[return-value]


def _outcome(exc: BaseException) -> str:
    """What a failed write did to the store, when the write pipeline knows."""
    changed = getattr(exc, "store_changed", "unset")
    return {
        "unset": "",
        False: " (nothing was written: the store is unchanged)",
        True: " (the write was applied before this error)",
        None: " (whether the write was applied is unknown)",
    }[changed]


def tell(message: str) -> None:
    """Progress and diagnostics go to stderr; stdout is for results."""
    click.echo(message, err=True)


# --- options -----------------------------------------------------------------------------

store_option = click.option(
    "--store",
    "store",
    default=None,
    metavar="PATH|:memory:|sparql+http://…",
    help="Store directory (default .coopgraph/store), :memory:, or a remote SPARQL "
    "1.1 endpoint (sparql+http://host:port/path).",
)
update_url_option = click.option(
    "--update-url", default=None, help="Update endpoint of a remote store, if different."
)
config_option = click.option(
    "--config",
    "config",
    type=click.Path(dir_okay=False),
    default=None,
    help="TOML settings file with a [coopgraph] table (also COOPGRAPH_CONFIG).",
)


@dataclass(frozen=True)
class StoreFlags:
    """``--store``, ``--update-url`` and ``--config`` as given (``None``: not given)."""

    store: str | None = None
    update_url: str | None = None
    config: str | None = None

    def settings(self, **flags: Any) -> Settings:
        """The settings these flags and ``flags`` (``None`` = not given) select."""
        return load_settings(self.config, store=self.store, update_url=self.update_url,
                             **flags)


def store_options(func: F) -> F:
    """``--store``, ``--update-url`` and ``--config``, passed to the command as one
    :class:`StoreFlags` argument named ``where``."""

    @functools.wraps(func)
    def wrapper(*args: Any, store: str | None, update_url: str | None, config: str | None,
                **kwargs: Any) -> Any:
        return func(*args, where=StoreFlags(store, update_url, config), **kwargs)

    return store_option(update_url_option(config_option(wrapper)))  # type: ignore[return-value]


def lang_option(help: str, *, choices: tuple[str, ...] = LANGUAGES,
                default: str | None = None) -> Callable[[F], F]:
    """``--lang``: the language of what the command prints."""
    return click.option("--lang", type=click.Choice(list(choices)), default=default,
                        show_default=default is not None, help=help)


def agent_option(who: str) -> Callable[[F], F]:
    """``--agent``: the name recorded in the provenance log."""
    return click.option("--agent", default=None, metavar="NAME",
                        help=f"{who} (default: your login).")


as_of_option = click.option(
    "--as-of",
    "as_of",
    default=None,
    metavar="DATE",
    help="Keep only the ties valid on DATE (YYYY-MM-DD or YYYY).",
)


# --- stores ------------------------------------------------------------------------------


@contextmanager
def loaded_store(settings: Settings, *, quiet: bool = True) -> Iterator[Store]:
    """The configured store, brought up to date with the project files, closed on exit.

    When a running server holds the store, read commands fall back to a read-only
    snapshot of it (and say so on stderr) instead of failing.
    """
    from coopgraph.errors import StartupError
    from coopgraph.load import load_project
    from coopgraph.search import attach
    from coopgraph.store import open_store

    try:
        store, snapshot = open_store(settings.store, update_url=settings.update_url), False
    except StartupError:
        store, snapshot = open_store(settings.store, read_only=True), True
    with closing(store):
        if snapshot:
            tell(f"coopgraph: {settings.store} is in use; reading a snapshot of it")
        else:
            load_project(store, settings,
                         progress=None if quiet else lambda name: tell(f"loading {name}"))
        attach(store, settings.search_index)  # keeps the search index in step with writes
        yield store


@contextmanager
def writable_store(settings: Settings) -> Iterator[Store]:
    """The configured store, writable and up to date, closed on exit (no read-only
    fallback: a running server holding the store is told, with the HTTP route to use
    instead)."""
    from coopgraph.errors import StartupError, StoreError
    from coopgraph.load import load_project
    from coopgraph.search import attach
    from coopgraph.store import open_store

    try:
        store = open_store(settings.store, update_url=settings.update_url)
    except StartupError as exc:  # a store error (exit 4), not bad usage
        raise StoreError(
            f"{exc.message}; while `coopgraph serve` holds the store, write through it: "
            "run the same command with --server URL (the address it serves on) and a "
            "token (--token or COOPGRAPH_TOKEN)",
            details={"store_changed": False},
        ) from exc
    with closing(store):
        load_project(store, settings)
        attach(store, settings.search_index)  # writes below update the search index
        yield store


def default_agent() -> str:
    """Who the provenance log names when ``--agent`` is not given: the login."""
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "coopgraph-cli"
