"""The house rules on code layout (issue 15): small modules, a thin CLI whose commands
close their stores."""

from __future__ import annotations

from pathlib import Path

import pytest

import coopgraph

PACKAGE = Path(coopgraph.__file__).parent
MODULES = sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_over_600_lines(path: Path) -> None:
    lines = len(path.read_text("utf-8").splitlines())
    assert lines <= 600, f"{path.relative_to(PACKAGE)} has {lines} lines: split it"


def test_cli_commands_close_their_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A command that fails half-way still closes its store (context managers, issue 15)."""
    from click.testing import CliRunner

    from coopgraph.cli import main
    from coopgraph.store.embedded import EmbeddedStore

    closed: list[bool] = []
    real_close = EmbeddedStore.close

    def close(self: EmbeddedStore) -> None:
        closed.append(True)
        real_close(self)

    monkeypatch.setattr(EmbeddedStore, "close", close)
    result = CliRunner().invoke(
        main, ["network", "path", "nobody-at-all", "no-one-either", "--store", ":memory:"]
    )
    assert result.exit_code == 2, result.output
    assert closed == [True]
