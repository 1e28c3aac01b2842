"""The message catalogues: gettext ``.po`` files for ``fr`` (the default), ``en`` and ``nl``
under ``server/coopgraph/locales/<lang>/LC_MESSAGES/messages.po``, extracted with Babel
(``babel.cfg``, ``make messages``).

Message ids are the English texts (the gettext convention). The ``.po`` files are the
only copy kept in git: each is compiled in memory the first time a language is asked for
(Babel's ``read_po`` + ``write_mo``, a few milliseconds), so a clean clone, an editable
install and a wheel all work with no compile step and no ``.mo`` that can go stale.

>>> translate("fr", "Query")
'Requête'
>>> translate_plural("fr", "%(num)d row", "%(num)d rows", 1)
'1 ligne'
>>> translate_plural("nl", "%(num)d row", "%(num)d rows", 2)
'2 rijen'
"""

from __future__ import annotations

import gettext as _gettext
import io
import threading
from functools import cache
from pathlib import Path
from typing import Any

#: UI languages, the default first.
LANGS = ("fr", "en", "nl")
DEFAULT_LANG = "fr"
#: Where the catalogues live (one ``<lang>/LC_MESSAGES/messages.po`` each).
LOCALES_DIR = Path(__file__).parent / "locales"
DOMAIN = "messages"
_LOCK = threading.Lock()


def N_(message: str) -> str:
    """Mark ``message`` for extraction without translating it now (a table of texts
    translated later, in the visitor's language)."""
    return message


def po_path(lang: str) -> Path:
    """The ``.po`` file of ``lang``."""
    return LOCALES_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def _compiled(lang: str) -> tuple[_gettext.GNUTranslations, dict[str, Any]]:
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with po_path(lang).open("rb") as handle:
        catalog = read_po(handle, locale=lang, domain=DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    scripts: dict[str, Any] = {}
    for message in catalog:
        if not message.id or not any(path.endswith(".js") for path, _ in message.locations):
            continue
        if isinstance(message.id, tuple | list):
            forms = [s for s in message.string if s] if message.string else []
            scripts[message.id[0]] = forms or list(message.id)
        else:
            scripts[message.id] = message.string or message.id
    return _gettext.GNUTranslations(buffer), scripts


def translations(lang: str) -> _gettext.NullTranslations:
    """The compiled catalogue of ``lang`` (the default language's for an unknown one)."""
    lang = lang if lang in LANGS else DEFAULT_LANG
    with _LOCK:
        return _compiled(lang)[0]


def translate(lang: str, message: str, **values: Any) -> str:
    """``message`` in ``lang``, with ``%(name)s`` placeholders filled from ``values``."""
    text = translations(lang).gettext(message)
    return text % values if values else text


def translate_plural(lang: str, singular: str, plural: str, num: int, **values: Any) -> str:
    """The form of ``singular`` / ``plural`` that ``lang`` uses for ``num`` (French counts
    0 and 1 as singular, English and Dutch only 1), ``%(num)d`` filled in."""
    text = translations(lang).ngettext(singular, plural, num)
    return text % {"num": num, **values}


def script_messages(lang: str) -> dict[str, Any]:
    """The messages the pages' scripts (``static/*.js``) use, for ``lang``: a text for each
    message id, or the list of plural forms (singular first) for a plural one."""
    lang = lang if lang in LANGS else DEFAULT_LANG
    with _LOCK:
        return _compiled(lang)[1]
