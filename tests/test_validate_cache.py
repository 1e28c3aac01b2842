"""The validator keeps what the store says about IRIs between validations
(``validate/context.py``); every write must drop what it changed, so a long-lived
validator (the server's, an import's) answers like a fresh one."""

from __future__ import annotations

from pathlib import Path

from coopgraph import entries
from coopgraph.formats import rdf_format
from coopgraph.parse import parse_bytes
from coopgraph.store import Store
from coopgraph.validate import Report, Validator

DATA = Path(__file__).parent / "data"
TOURNAI = "https://w3id.org/coopgraph/id/org/test-commune-tournai"


def rules(report: Report) -> list[str]:
    return sorted(f"{f.rule} {f.focus} {f.value}" for f in report.findings)


def test_a_write_drops_what_it_changed(fresh_store: Store) -> None:
    # a partnership with an organisation that is not in the store yet
    text = (DATA / "invalid" / "unknown-partner-city.ttl").read_bytes()
    partnership = parse_bytes(
        text.replace(b"https://w3id.org/coopgraph/id/place/atlantis", TOURNAI.encode()),
        rdf_format("turtle"),
        source="partnership.ttl",
    )
    validator = Validator(fresh_store)

    def check() -> Report:
        cached = validator.validate_quads(partnership, entry="p")
        fresh = Validator(fresh_store).validate_quads(partnership, entry="p")
        assert rules(cached) == rules(fresh)
        return cached

    before = check()
    assert not before.conforms
    assert any(
        f.rule == "CG-PART-002" and "test-commune-tournai" in (f.value or "")
        for f in before.findings
    )
    assert TOURNAI in validator.context.about  # what it read is kept

    added = entries.add_entry(
        fresh_store, (DATA / "valid" / "new-organisation.ttl").read_bytes(), "turtle",
        graph="tournai", agent="test", source="test", validator=validator,
    )
    assert TOURNAI not in validator.context.about  # dropped by the commit
    assert check().conforms

    entries.remove_entry(fresh_store, added.graph, agent="test", source="test")
    assert rules(check()) == rules(before)
