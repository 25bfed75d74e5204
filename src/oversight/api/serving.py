"""Serving the app with several uvicorn workers without a 40 ms stall on every kept-alive request.

With ``--workers N`` uvicorn's supervisor binds the listening socket itself and leaves its
``proto`` at 0.  Accepted connections inherit that, and asyncio sets ``TCP_NODELAY`` only on
sockets whose ``proto`` is ``IPPROTO_TCP``, so Nagle's algorithm stays on: a response written
as headers and then body holds the body back until the client acknowledges the headers, and
the client delays that acknowledgement by 40 ms.  Every request after the first on a kept-alive
connection took ≥ 40 ms, whatever the server's work (uvicorn issue #3149; one worker is not
affected: asyncio binds that socket itself).  Linux copies ``TCP_NODELAY`` from a listening
socket to the connections it accepts, so setting it on the listener is enough.

    python -m oversight.api.serving oversight.web.app:create_app --factory --workers 2 …   # uvicorn's options

or call :func:`nodelay_listener` before ``uvicorn.run(..., workers=N)``.
"""

from __future__ import annotations

import socket
import sys

_PATCHED = "_oversight_nodelay"


def nodelay_listener() -> None:
    """Make uvicorn's own listening sockets TCP_NODELAY (idempotent)."""
    from uvicorn.config import Config

    original = Config.bind_socket
    if getattr(original, _PATCHED, False):
        return

    def bind_socket(self: Config) -> socket.socket:
        sock = original(self)
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock

    setattr(bind_socket, _PATCHED, True)
    Config.bind_socket = bind_socket  # type: ignore[method-assign]


def main() -> int:
    """``uvicorn``'s command line, with :func:`nodelay_listener` applied first."""
    import uvicorn.main

    nodelay_listener()
    return uvicorn.main.main()


if __name__ == "__main__":          # worker processes import this module as __mp_main__: no second server
    sys.exit(main())
