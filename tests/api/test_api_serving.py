"""``oversight.api.serving``: the listening socket uvicorn binds for ``--workers N`` hands TCP_NODELAY
to the connections it accepts (without it every kept-alive response waits for a delayed ACK)."""

from __future__ import annotations

import socket

from uvicorn.config import Config

from oversight.api import serving


def _accepted(listener: socket.socket) -> tuple[socket.socket, socket.socket]:
    listener.listen(1)
    client = socket.create_connection(listener.getsockname()[:2])
    conn, _ = listener.accept()
    return client, conn


def test_the_bound_listener_gives_accepted_connections_nodelay(monkeypatch):
    monkeypatch.setattr(Config, "bind_socket", Config.bind_socket)      # undone after the test
    serving.nodelay_listener()
    serving.nodelay_listener()                                          # idempotent: one wrapper
    assert getattr(Config.bind_socket, serving._PATCHED)
    sock = Config(app="x:y", host="127.0.0.1", port=0).bind_socket()
    try:
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
        client, conn = _accepted(sock)
        assert conn.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
        client.close()
        conn.close()
    finally:
        sock.close()
