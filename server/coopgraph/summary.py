"""A plain-text summary of what a store holds: graphs and their sizes, main classes."""

from __future__ import annotations

from coopgraph.settings import PROJECT_ROOT
from coopgraph.store.base import Solutions, Store
from coopgraph.validate import compact

CLASS_COUNTS = PROJECT_ROOT / "queries" / "class-counts.rq"


def graph_summary(store: Store, *, top: int = 15) -> str:
    """Named graphs with their sizes, then the ``top`` most frequent classes."""
    sizes = store.graph_sizes()
    width = max((len(compact(g)) for g in sizes), default=10)
    lines = [f"{len(sizes)} named graphs, {sum(sizes.values())} quads"]
    lines += [f"  {compact(g):<{width}}  {n:>8}" for g, n in sorted(sizes.items())]
    result = store.query(CLASS_COUNTS.read_text("utf-8"), limit=top)
    assert isinstance(result, Solutions)
    lines.append("classes (inferences included):")
    for cls, count in result.rows:
        lines.append(f"  {compact(cls.value):<{width}}  {int(count.value):>8}")  # type: ignore[union-attr]
    return "\n".join(lines)
