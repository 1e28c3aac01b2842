"""coopgraph: a linked-data knowledge graph of decentralised-cooperation actors.

Importing the package does no I/O; build things through :func:`coopgraph.store.open_store`
and :func:`coopgraph.web.create_app`.
"""

from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["__version__"]
