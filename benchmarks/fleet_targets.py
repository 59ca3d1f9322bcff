"""A fleet of node_exporters on one socket: every 127.x.y.z address answers on one port.

Linux routes all of 127.0.0.0/8 to the loopback interface, so one server bound to
``0.0.0.0:PORT`` answers on every loopback address; connections from anywhere else are closed
unanswered. Each address is a target of its own: ``GET /metrics`` returns the node_exporter page
of ``benchmarks/data/node_exporter.prom`` (507 samples, 57 KB; gzip when asked, as node_exporter
does) with the counter values (and summaries' ``_sum``/``_count``) of that address, which grow
with time, so successive scrapes see increases. HTTP/1.1 with keep-alive, one asyncio loop.

Run it as ``python -m benchmarks.fleet_targets PORT``: it prints ``ready`` once listening and
stops at SIGTERM.
"""
from __future__ import annotations

import asyncio
import ipaddress
import signal
import sys
import time
import zlib
from pathlib import Path

PAGE = Path(__file__).resolve().parent / "data" / "node_exporter.prom"
_CUMULATIVE = ("counter", "summary", "histogram")


def page_template(text: str) -> tuple[list[str], list[float]]:
    """The page cut around its cumulative values: ``pieces[i] + value[i] + pieces[i + 1] ...``.

    Returns
    -------
    tuple
        ``pieces`` (one more than the values) and each cumulative sample's value on the page.
    """
    kinds: dict[str, str] = {}
    pieces: list[str] = []
    values: list[float] = []
    current: list[str] = []
    for line in text.splitlines(keepends=True):
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split()
            kinds[name] = kind
        name = line.split("{", 1)[0].split(" ", 1)[0]
        family = name.removesuffix("_total").removesuffix("_sum").removesuffix("_count").removesuffix("_bucket")
        kind = kinds.get(name) or kinds.get(family)
        if line.startswith("#") or kind not in _CUMULATIVE or 'quantile="' in line:
            current.append(line)
            continue
        head, _, value = line.rstrip("\n").rpartition(" ")
        current.append(head + " ")
        pieces.append("".join(current))
        values.append(float(value))
        current = ["\n"]
    pieces.append("".join(current))
    return pieces, values


class Fleet:
    """The pages of every address: counters start apart per address and grow per second."""

    def __init__(self, text: str) -> None:
        self.pieces, self.values = page_template(text)
        self.started = time.monotonic()

    def page(self, address: str) -> bytes:
        """The page ``address`` serves now."""
        index = int(ipaddress.IPv4Address(address)) & 0xFFFFFF
        grown = (time.monotonic() - self.started) * (1 + index % 7)
        offset = index * 17.0
        parts = [self.pieces[0]]
        for value, piece in zip(self.values, self.pieces[1:], strict=True):
            parts.append(f"{value + offset + grown:.2f}")
            parts.append(piece)
        return "".join(parts).encode()


async def _serve(fleet: Fleet, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    local = writer.get_extra_info("sockname")[0]
    peer = writer.get_extra_info("peername")[0]
    if not (local.startswith("127.") and peer.startswith("127.")):
        writer.close()
        return
    try:
        while True:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, asyncio.CancelledError, ConnectionError):
                return  # the client went away, or the server is stopping
            request_line, *header_lines = head.decode("latin-1").split("\r\n")
            headers = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in header_lines if h)}
            path = request_line.split(" ")[1] if request_line.count(" ") == 2 else ""
            if path != "/metrics":
                writer.write(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
            else:
                body = fleet.page(local)
                extra = b""
                if "gzip" in headers.get("accept-encoding", ""):
                    packer = zlib.compressobj(1, zlib.DEFLATED, 31)
                    body = packer.compress(body) + packer.flush()
                    extra = b"Content-Encoding: gzip\r\n"
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
                             + extra + b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
            await writer.drain()
            if headers.get("connection", "").lower() == "close":
                return
    finally:
        writer.close()


async def main(port: int) -> None:
    """Serve until SIGTERM."""
    fleet = Fleet(PAGE.read_text())
    server = await asyncio.start_server(lambda r, w: _serve(fleet, r, w), "0.0.0.0", port, backlog=4096,
                                        reuse_address=True)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    print("ready", flush=True)
    async with server:
        await stop.wait()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
