"""Blueprint for staff reference: ``/lookup`` (reuse an existing IRI) and ``/rules``
(every validation rule with its messages and examples, the guidance links of reports)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, render_template, request

from coopgraph.errors import BadRequest
from coopgraph.formats import HTML, JSON
from coopgraph.lookup import lookup as find
from coopgraph.lookup import suggest
from coopgraph.rules import SEVERITY_WORDS, Rule, rules_from_quads
from coopgraph.search import index_for
from coopgraph.vocab import SHAPES_GRAPH
from coopgraph.web.appstate import current_lang, state
from coopgraph.web.respond import requested

bp = Blueprint("reference", __name__)


@bp.route("/lookup")
def lookup() -> Response:
    """``/lookup?q=Oujda[&limit=20]`` → JSON matches, best first; also what the query
    page's completion asks as the visitor types (every word may be cut short).

    With no match, ``suggestions`` lists names spelt nearly like ``q`` ("did you mean").
    ``index`` is ``ready``, or ``building`` while the search index is rebuilt in the
    background (the matches then come from the previous index and may be incomplete).

    :raises BadRequest: ``q`` missing, empty or too long; ``limit`` not an integer.
    """
    text = request.args.get("q")
    if text is None:
        raise BadRequest("missing parameter q: /lookup?q=Oujda")
    try:
        limit = max(1, min(int(request.args.get("limit", "20")), 100))
    except ValueError:
        raise BadRequest("limit must be an integer") from None
    store = state().store
    matches = find(store, text, limit=limit)
    body: dict[str, object] = {
        "query": text,
        "index": index_for(store).state,
        "matches": [m.to_dict() for m in matches],
    }
    if not matches:  # "did you mean": names spelt nearly like the text
        body["suggestions"] = [m.to_dict() for m in suggest(store, text, limit=5)]
    return jsonify(body)


def _rules() -> list[Rule]:
    app_state = state()
    if app_state.rules is None:  # (two first requests at once both read: same answer)
        app_state.rules = rules_from_quads(app_state.store.quads(SHAPES_GRAPH))
    return app_state.rules


@bp.route("/rules")
def rules() -> Response:
    """Every rule by family (HTML, anchors = rule IDs) or as JSON (``format=json``)."""
    found = _rules()
    fmt = requested((HTML, JSON))
    if fmt is HTML:
        lang = current_lang()
        return Response(
            render_template("rules.html", rules=found, lang=lang, words=SEVERITY_WORDS),
            mimetype="text/html",
        )
    return jsonify([r.to_dict() for r in found])
