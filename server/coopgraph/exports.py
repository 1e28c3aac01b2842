"""Network exports for other tools: GraphML and GEXF (Gephi, Cytoscape), CSV (spreadsheets,
Gephi's import wizard) and JSON-LD (linked-data tools).

Every writer takes the :mod:`coopgraph.network` graph and returns bytes; the format names,
media types and extensions come from :data:`coopgraph.formats.EXPORT_FORMATS`.

What the files hold, in every format:

* nodes: ``id`` (= the IRI), ``label`` (fr, else en), ``label_fr``, ``label_en``, ``kind``
  (organisation, place, programme, call), ``category``, ``lat``, ``long``, ``location``;
* edges: ``tie_type`` (partnership, funding, employment, membership, suborganisation,
  programme, offer; named ``tie_type`` because GEXF and Gephi's CSV use ``type`` for
  directed/undirected), ``source_iri``/``target_iri`` (the tie's direction), ``sources``
  (named graphs, space-separated), ``start``/``end`` (ISO dates), ``via``, ``label``.

GEXF nodes with coordinates also get a ``viz`` position (x = longitude, y = latitude), so
Gephi opens them on a rough map.
"""

from __future__ import annotations

import io
import json
import zipfile
from importlib import resources
from typing import Any

import networkx as nx

from coopgraph.csvsafe import SafeWriter
from coopgraph.formats import Format, export_format
from coopgraph.vocab import BASE

#: Where the JSON-LD context of the exports is published (served at /context/network.jsonld).
CONTEXT_URL = BASE + "context/network.jsonld"

NODE_FIELDS = ("label", "label_fr", "label_en", "kind", "category", "lat", "long", "location")
EDGE_FIELDS = (
    "tie_type", "source_iri", "target_iri", "sources", "start", "end", "via", "label", "iri",
)


def network_context() -> dict[str, Any]:
    """The JSON-LD context document of the network export (``{"@context": …}``)."""
    text = resources.files("coopgraph").joinpath("contexts", "network.jsonld").read_text("utf-8")
    return json.loads(text)  # type: ignore[no-any-return]


def _node_attrs(data: dict[str, Any]) -> dict[str, Any]:
    return {k: data[k] for k in NODE_FIELDS if data.get(k) is not None}


def _edge_attrs(data: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "tie_type": data["type"],
        "source_iri": data["source"],
        "target_iri": data["target"],
        "sources": " ".join(data.get("sources", [])),
        "label": data.get("via_label") or data["type"],
    }
    for key in ("start", "end", "via", "iri"):
        if data.get(key) is not None:
            out[key] = data[key]
    return out


#: Lexical length → datatype of a date that is less precise than a day.
_PRECISION = {4: "http://www.w3.org/2001/XMLSchema#gYear",
              7: "http://www.w3.org/2001/XMLSchema#gYearMonth"}


def flat_graph(graph: nx.MultiGraph, *, gexf: bool = False) -> nx.MultiGraph:
    """A copy whose attributes are scalars named as in the module doc (what the XML
    writers need); ``gexf`` adds ``viz`` positions from the coordinates."""
    flat = nx.MultiGraph()
    for n, data in graph.nodes(data=True):
        attrs = _node_attrs(data)
        if gexf and "lat" in data and "long" in data:
            attrs["viz"] = {"position": {"x": data["long"], "y": data["lat"], "z": 0.0}}
        flat.add_node(n, **attrs)
    for a, b, key, data in graph.edges(keys=True, data=True):
        flat.add_edge(a, b, key=key, **_edge_attrs(data))
    return flat


def to_graphml(graph: nx.MultiGraph) -> bytes:
    """GraphML 1.0 (UTF-8); edge ids are the tie IRIs."""
    out = io.BytesIO()
    nx.write_graphml(flat_graph(graph), out, encoding="utf-8", named_key_ids=True)
    return out.getvalue()


def to_gexf(graph: nx.MultiGraph) -> bytes:
    """GEXF 1.2 (UTF-8), undirected, with viz positions for located nodes."""
    flat = flat_graph(graph, gexf=True)
    for _, _, key, data in flat.edges(keys=True, data=True):
        data["id"] = key
    out = io.BytesIO()
    nx.write_gexf(flat, out, encoding="utf-8", version="1.2draft")
    return out.getvalue()


def nodes_csv(graph: nx.MultiGraph) -> str:
    """nodes.csv: ``Id``, ``Label`` (Gephi's names), then the node fields."""
    buf = io.StringIO()
    writer = SafeWriter(buf, lineterminator="\n")
    writer.writerow(("Id", "Label") + NODE_FIELDS[1:])
    for n, data in graph.nodes(data=True):
        attrs = _node_attrs(data)
        writer.writerow([n, attrs.get("label", n)] + [attrs.get(k, "") for k in NODE_FIELDS[1:]])
    return buf.getvalue()


def edges_csv(graph: nx.MultiGraph) -> str:
    """edges.csv: ``Source``, ``Target``, ``Type`` (= Undirected), ``Id``, ``Label``, then
    the edge fields."""
    fields = ("tie_type", "source_iri", "target_iri", "sources", "start", "end", "via")
    buf = io.StringIO()
    writer = SafeWriter(buf, lineterminator="\n")
    writer.writerow(("Source", "Target", "Type", "Id", "Label") + fields)
    for a, b, key, data in graph.edges(keys=True, data=True):
        attrs = _edge_attrs(data)
        writer.writerow(
            [a, b, "Undirected", key, attrs["label"]] + [attrs.get(k, "") for k in fields]
        )
    return buf.getvalue()


def to_csv_zip(graph: nx.MultiGraph) -> bytes:
    """A zip holding nodes.csv and edges.csv (UTF-8)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("nodes.csv", nodes_csv(graph))
        zf.writestr("edges.csv", edges_csv(graph))
    return out.getvalue()


def to_jsonld_document(
    graph: nx.MultiGraph, *, context: str | None = CONTEXT_URL
) -> dict[str, Any]:
    """The network as a JSON-LD document; ``context=None`` inlines the context (for tools
    that cannot fetch it), otherwise it is referenced by URL."""
    items: list[dict[str, Any]] = []
    for n, data in graph.nodes(data=True):
        node: dict[str, Any] = {"id": n, "type": "NetworkNode", "kind": data.get("kind")}
        labels = {k[6:]: data[k] for k in ("label_fr", "label_en") if data.get(k)}
        if labels:
            node["label"] = labels
        if data.get("category_iri"):
            node["category"] = data["category_iri"]
        if "lat" in data and "long" in data:
            node.update(location=data["location"], lat=str(data["lat"]), long=str(data["long"]))
        items.append(node)
    for _, _, key, data in graph.edges(keys=True, data=True):
        tie: dict[str, Any] = {
            "id": key,
            "type": "NetworkTie",
            "tieType": data["type"],
            "source": data["source"],
            "target": data["target"],
            "derivedFrom": list(data.get("sources", [])),
        }
        for field in ("start", "end", "via"):
            if data.get(field):
                tie[field] = data[field]
        for field in ("start", "end"):  # a year or a month keeps its precision
            precision = _PRECISION.get(len(data.get(field) or ""))
            if precision:
                tie[field] = {"@value": data[field], "@type": precision}
        items.append(tie)
    ctx: Any = network_context()["@context"] if context is None else context
    return {"@context": ctx, "@graph": items}


def to_jsonld(graph: nx.MultiGraph, *, context: str | None = CONTEXT_URL) -> bytes:
    """:func:`to_jsonld_document` as indented UTF-8 JSON."""
    doc = to_jsonld_document(graph, context=context)
    return json.dumps(doc, ensure_ascii=False, indent=1).encode("utf-8")


def export(graph: nx.MultiGraph, fmt: str | Format, **options: Any) -> bytes:
    """Write ``graph`` in the export format named by ``fmt`` (name, media type, extension).

    :raises UnsupportedFormat: unknown format.
    """
    f = fmt if isinstance(fmt, Format) else export_format(fmt)
    writers = {"graphml": to_graphml, "gexf": to_gexf, "csv": to_csv_zip}
    if f.name == "jsonld":
        return to_jsonld(graph, **options)
    return writers[f.name](graph)


def write_export(
    graph: nx.MultiGraph, fmt: str | Format, out: str | None, **options: Any
) -> bytes | list[str]:
    """Export for the CLI: the bytes when ``out`` is None; otherwise write ``out`` and
    return the paths written. CSV to a path not ending in ``.zip`` writes ``nodes.csv``
    and ``edges.csv`` into that folder (created if needed) instead of a zip.

    :raises UnsupportedFormat: unknown format.
    :raises StoreError: the file or folder cannot be written.
    """
    from pathlib import Path

    from coopgraph.errors import StoreError

    f = fmt if isinstance(fmt, Format) else export_format(fmt)
    if out is None:
        return export(graph, f, **options)
    path = Path(out)
    try:
        if f.name == "csv" and path.suffix.lower() != ".zip":
            path.mkdir(parents=True, exist_ok=True)
            (path / "nodes.csv").write_text(nodes_csv(graph), "utf-8")
            (path / "edges.csv").write_text(edges_csv(graph), "utf-8")
            return [str(path / "nodes.csv"), str(path / "edges.csv")]
        path.write_bytes(export(graph, f, **options))
    except OSError as exc:
        raise StoreError(f"cannot write {out}: {exc}") from exc
    return [str(path)]
