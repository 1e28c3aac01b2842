"""settings.py: defaults < file < environment < flags; tokens never hard-coded."""

from __future__ import annotations

import pytest

from coopgraph.errors import StartupError
from coopgraph.settings import Settings, load_settings, parse_tokens


def test_defaults_are_secure(monkeypatch):
    for name in ("COOPGRAPH_TOKENS", "COOPGRAPH_HOST", "COOPGRAPH_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    s = load_settings()
    assert s.host == "127.0.0.1"
    assert s.tokens == {}
    assert s.allowed_service_hosts == ()
    assert s.query_timeout == 30.0


def test_precedence(tmp_path, monkeypatch):
    config = tmp_path / "c.toml"
    config.write_text('[coopgraph]\nport = 9000\nquery_timeout = 10\nlang = "en"\n')
    monkeypatch.setenv("COOPGRAPH_PORT", "9100")
    s = load_settings(config, port=None, lang="nl")
    assert (s.port, s.query_timeout, s.lang) == (9100, 10.0, "nl")


def test_tokens_from_env(monkeypatch):
    monkeypatch.setenv("COOPGRAPH_TOKENS", "alice:0123456789,bob:abcdefghij")
    assert load_settings().tokens == {"alice": "0123456789", "bob": "abcdefghij"}


@pytest.mark.parametrize("text", ["alice", "alice:short", ":nobodyname"])
def test_bad_tokens(text):
    with pytest.raises(StartupError):
        parse_tokens(text)


def test_unknown_setting_is_an_error(tmp_path):
    config = tmp_path / "c.toml"
    config.write_text("[coopgraph]\nprot = 1\n")
    with pytest.raises(StartupError, match="prot"):
        load_settings(config)


def test_replace_ignores_unset_flags():
    assert Settings().replace(port=None, host="0.0.0.0").port == 8000
