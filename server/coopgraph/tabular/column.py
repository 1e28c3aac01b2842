"""What a spreadsheet column is: headers (fr/en), help, example, the rule that checks it,
and the node and paths its cell writes (the columns themselves: :mod:`.columns`)."""

from __future__ import annotations

from dataclasses import dataclass

#: Multi-valued cells separate their values with this character (documented in the
#: template's explanation row and in the README).
SEPARATOR = ";"
#: A row whose first cell starts with this is a comment (the template's explanation row).
COMMENT = "#"
LANGS = ("fr", "en")
#: The extra column written by ``--annotate`` (ignored when such a sheet is re-imported).
ERRORS_HEADER = {"fr": "Erreurs (coopgraph)", "en": "Errors (coopgraph)"}


@dataclass(frozen=True)
class Column:
    """One column of a template."""

    key: str
    header: dict[str, str]
    help: dict[str, str]
    example: dict[str, str]
    required: bool = False
    rule: str | None = None
    multi: bool = False
    #: the role of the node this column writes on (``main``, ``salary``, ``lang`` …)
    node: str = "main"
    paths: tuple[str, ...] = ()
    #: more rule IDs told on this column (node-level rules, warnings)
    also: tuple[str, ...] = ()

    def explanation(self, lang: str) -> str:
        """The text of this column's cell in the template's explanation row."""
        words = _WORDS[lang]
        parts = [words["required"] if self.required else words["optional"], self.help[lang]]
        if self.multi:
            parts.append(words["multi"])
        if self.example[lang]:
            parts.append(words["example"].format(self.example[lang]))
        if self.rule:
            parts.append(words["rule"].format(self.rule))
        return " ".join(parts)


_WORDS = {
    "fr": {
        "required": "Obligatoire.",
        "optional": "Facultatif.",
        "multi": f"Plusieurs valeurs : séparez-les par « {SEPARATOR} ».",
        "example": "Exemple : {}",
        "rule": "(vérifié par la règle {})",
    },
    "en": {
        "required": "Required.",
        "optional": "Optional.",
        "multi": f"Several values: separate them with “{SEPARATOR}”.",
        "example": "Example: {}",
        "rule": "(checked by rule {})",
    },
}
