"""The HTTP protocol ``lgp control-plane serve`` runs: uvicorn's h11 protocol with TCP_NODELAY.

With ``--workers`` above 1, uvicorn binds the listening socket itself (``socket.socket(family=...)``,
protocol 0), and asyncio turns Nagle's algorithm off only for sockets whose protocol is IPPROTO_TCP.
The headers and the body of an answer then wait for the client's delayed ACK: measured here, 47 ms per
request with 2 workers against 1.2 ms with 1 (bench/control_plane_bench.py, "HTTP floor"). Setting
TCP_NODELAY on each connection makes both modes the same.
"""

from __future__ import annotations

import asyncio
import socket

from uvicorn.protocols.http.h11_impl import H11Protocol


class NoDelayH11Protocol(H11Protocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(transport)  # type: ignore[arg-type]
