"""What a bulk import did, entry by entry: the report printed at the end of a run."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from coopgraph.entries import entry_id
from coopgraph.vocab import GRAPH

__all__ = ["STATUSES", "BulkReport", "Outcome"]

#: What can happen to an entry; ``would-…`` in a check-only run (nothing written).
STATUSES = ("added", "replaced", "unchanged", "rejected")


@dataclass
class Outcome:
    """One entry of the run."""

    graph: str
    #: ``added``, ``replaced``, ``unchanged`` or ``rejected``
    status: str
    #: where it was read (file, spreadsheet row)
    origin: str
    triples: int = 0
    #: rule IDs of the violations (rejected entries)
    rules: list[str] = field(default_factory=list)
    #: why it was rejected, in one line
    message: str = ""

    @property
    def name(self) -> str:
        """``entry/<id>`` or ``reference/<id>``: the graph IRI without its base."""
        return self.graph.removeprefix(str(GRAPH)) if self.graph.startswith(str(GRAPH)) else (
            entry_id(self.graph)
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "graph": self.graph,
            "status": self.status,
            "origin": self.origin,
            "triples": self.triples,
            "rules": self.rules,
            "message": self.message,
        }


@dataclass
class BulkReport:
    """Every entry's outcome, the figures of the run and what stopped it, if anything."""

    outcomes: list[Outcome] = field(default_factory=list)
    #: nothing was written (``--check``): statuses say what *would* happen
    check_only: bool = False
    #: a file could not be read or parsed (the run went on with the next file)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0
    #: seconds spent validating, committing and materialising
    timings: dict[str, float] = field(default_factory=dict)
    #: triples in ``cgg:inferred`` after the run's materialisation (None: not run)
    inferred: int | None = None

    def counts(self) -> dict[str, int]:
        found = Counter(o.status for o in self.outcomes)
        return {status: found.get(status, 0) for status in STATUSES}

    @property
    def conforms(self) -> bool:
        return not any(o.status == "rejected" for o in self.outcomes)

    @property
    def exit_code(self) -> int:
        """README exit codes: 2 a file was unreadable, 1 an entry was rejected, else 0."""
        return 2 if self.errors else (0 if self.conforms else 1)

    def summary(self) -> str:
        c = self.counts()
        prefix = "would be " if self.check_only else ""
        triples = sum(o.triples for o in self.outcomes if o.status in ("added", "replaced"))
        parts = [
            f"{c['added']} {prefix}added",
            f"{c['replaced']} {prefix}replaced",
            f"{c['unchanged']} unchanged (skipped)",
            f"{c['rejected']} rejected",
        ]
        text = f"{len(self.outcomes)} entries: " + ", ".join(parts)
        text += f"; {triples} triples {'checked' if self.check_only else 'written'}"
        if self.inferred is not None:
            text += f", {self.inferred} inferred"
        text += f" in {self.seconds:.1f} s"
        if self.errors:
            text += f"; {len(self.errors)} file(s) could not be read"
        return text

    def to_text(self) -> str:
        """One line per entry (rejected ones with their rule IDs and reason), then totals."""
        lines = []
        for o in self.outcomes:
            status = ("would be " + o.status) if self.check_only and o.status in (
                "added", "replaced") else o.status
            line = f"{status:<18} {o.name}  ({o.origin}, {o.triples} triples)"
            if o.status == "rejected":
                rules = f" [{', '.join(o.rules)}]" if o.rules else ""
                line = f"{status:<18} {o.name}  ({o.origin}){rules}: {o.message}"
            lines.append(line)
        lines += [f"error: {e}" for e in self.errors]
        lines.append(self.summary())
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "conforms": self.conforms,
            "check_only": self.check_only,
            "counts": self.counts(),
            "inferred": self.inferred,
            "seconds": round(self.seconds, 3),
            "timings": {k: round(v, 3) for k, v in self.timings.items()},
            "errors": self.errors,
            "entries": [o.to_dict() for o in self.outcomes],
        }

    @classmethod
    def from_dict(cls, body: dict[str, Any]) -> BulkReport:
        """The report a server answered (``POST /import``), as :meth:`to_dict` wrote it."""
        outcomes = [
            Outcome(o["graph"], o["status"], o.get("origin", ""), o.get("triples", 0),
                    list(o.get("rules", [])), o.get("message", ""))
            for o in body.get("entries", [])
        ]
        return cls(outcomes, bool(body.get("check_only")), list(body.get("errors", [])),
                   float(body.get("seconds", 0.0)), dict(body.get("timings", {})),
                   body.get("inferred"))

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=1)
