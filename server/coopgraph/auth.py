"""Bearer tokens for write routes: the secret proves who writes, the NAME goes to provenance.

Tokens come from :attr:`coopgraph.settings.Settings.tokens` (``COOPGRAPH_TOKENS`` or the
config file), never from the code. Every configured secret is compared with
:func:`hmac.compare_digest`, all of them, so the time taken says nothing about which
secret (or how much of one) matched.

>>> authenticate("Bearer alice-secret-token", {"alice": "alice-secret-token"})
'alice'
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Mapping

from coopgraph.errors import Unauthorized

__all__ = ["CHALLENGE", "TOKEN_NAME", "TOKEN_SECRET", "authenticate"]

#: Token names become ``cgid:agent/<name>`` IRIs in the provenance log.
TOKEN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
#: What a client can send as ``Bearer <secret>``: printable ASCII, no space or comma.
TOKEN_SECRET = re.compile(r"[!-+\--~]+")

#: The ``WWW-Authenticate`` value sent with every 401.
CHALLENGE = 'Bearer realm="coopgraph"'


def authenticate(authorization: str | None, tokens: Mapping[str, str]) -> str:
    """The name of the token presented in an ``Authorization: Bearer <secret>`` header.

    :param authorization: the header value (``None`` when absent).
    :param tokens: name → secret, from the settings.
    :returns: the token's name, recorded as the writer in the provenance log.
    :raises Unauthorized: no header, not a Bearer credential, or an unknown secret (also
        when no token is configured at all: writes are then disabled).
    """
    if not authorization:
        raise Unauthorized(
            "this route writes: send the header 'Authorization: Bearer <token>'"
        )
    scheme, _, secret = authorization.strip().partition(" ")
    secret = secret.strip()
    if scheme.lower() != "bearer" or not secret:
        raise Unauthorized(
            "the Authorization header must be 'Bearer <token>' (other schemes are not accepted)"
        )
    if not tokens:
        raise Unauthorized(
            "writes are disabled on this server: no token is configured (COOPGRAPH_TOKENS)"
        )
    given = secret.encode("utf-8")
    found: str | None = None
    for name, expected in tokens.items():
        # No early exit: compare against every secret.
        if hmac.compare_digest(given, expected.encode("utf-8")):
            found = name
    if found is None:
        raise Unauthorized("the bearer token is not valid")
    return found
