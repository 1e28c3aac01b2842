"""Words the pages show for the codes of the data (tie types, node kinds, metrics, graph
kinds, HTTP statuses), marked for the message catalogues and translated per request.

The codes themselves (``partnership``, ``weighted_degree``…) stay in URLs and JSON; only
their words change with the visitor's language.
"""

from __future__ import annotations

import re
from typing import Any

from coopgraph import i18n
from coopgraph.i18n import N_

TIE_WORDS = {
    "partnership": N_("partnership, cooperation"),
    "funding": N_("funding"),
    "employment": N_("hiring (duty station)"),
    "membership": N_("membership"),
    "suborganisation": N_("sub-organisation"),
    "programme": N_("programme or call"),
    "offer": N_("tie named in an offer"),
}
NODE_KIND_WORDS = {
    "organisation": N_("organisation"),
    "programme": N_("programme"),
    "call": N_("call for projects"),
    "place": N_("place"),
}
METRIC_WORDS = {
    "degree": N_("degree"),
    "weighted_degree": N_("weighted degree"),
    "betweenness": N_("betweenness"),
}
GRAPH_KIND_WORDS = {
    "ontology": N_("ontology"),
    "shapes": N_("shapes"),
    "reference": N_("reference data"),
    "seed": N_("seed offers"),
    "entry": N_("entries"),
    "inferred": N_("inferences"),
    "provenance": N_("provenance"),
    "other": N_("other"),
}
STATUS_TITLES = {
    400: N_("Bad request"),
    401: N_("Authentication required"),
    403: N_("Forbidden"),
    404: N_("Page not found"),
    405: N_("Method not allowed"),
    406: N_("Format not available"),
    409: N_("Conflict"),
    413: N_("Request too large"),
    415: N_("Content type not accepted"),
    422: N_("Data not valid"),
    500: N_("Internal error"),
    503: N_("Service unavailable, try again shortly"),
}
#: What the page says when the error is the web framework's own (no message of ours).
STATUS_DETAILS = {
    404: N_("This address is no page of coopgraph."),
    405: N_("This address does not answer this method."),
    413: N_("The request is larger than this server accepts."),
    500: N_("Something went wrong on the server; it has been logged."),
}
_ESTIMATED = re.compile(r"estimated from (\d+) sampled sources \(seed (\d+)\)")


def betweenness_text(lang: str, how: str) -> str:
    """``exact`` or ``estimated from N sampled sources (seed S)`` in words."""
    if how == "exact":
        return i18n.translate(lang, "exact")
    found = _ESTIMATED.fullmatch(how)
    if not found:
        return how
    return i18n.translate_plural(
        lang, "estimated from %(num)d sampled source (seed %(seed)s)",
        "estimated from %(num)d sampled sources (seed %(seed)s)",
        int(found.group(1)), seed=found.group(2),
    )


def translated(lang: str, table: dict[Any, str]) -> dict[Any, str]:
    """``table`` with each text in ``lang``."""
    return {key: i18n.translate(lang, text) for key, text in table.items()}


def page_words(lang: str) -> dict[str, Any]:
    """What every template gets: the tables above in ``lang``, the scripts' messages."""
    return {
        "tie_words": translated(lang, TIE_WORDS),
        "kind_words": translated(lang, NODE_KIND_WORDS),
        "metric_words": translated(lang, METRIC_WORDS),
        "graph_kind_words": translated(lang, GRAPH_KIND_WORDS),
        "status_titles": translated(lang, STATUS_TITLES),
        "status_details": translated(lang, STATUS_DETAILS),
        "betweenness_text": lambda how: betweenness_text(lang, how),
        "script_messages": i18n.script_messages(lang),
    }
