#!/usr/bin/env python3
"""A TCP relay that adds a one-way delay (and optionally a bandwidth cap) between a client
and a server, and counts round trips.

    relay.py --listen PORT --to HOST:PORT --delay-ms D [--kbps K] [--stats FILE]

Every chunk read from one side is written to the other side D ms later (order kept). A
round trip is counted each time the client starts a request (an HTTP/2 HEADERS frame) after
the server last spoke on that connection (a request that had to wait for an answer), plus
each connection's first request; acknowledgements, window updates, pings and the data of a
request already started are not requests. SIGUSR1 (or the --stats file, rewritten after every round trip) reports
"round_trips connections bytes_up bytes_down". Prints the port it listens on first.
"""
import argparse
import asyncio
import os
import signal
import sys


class Counters:
    def __init__(self, path):
        self.path = path
        self.round_trips = 0
        self.connections = 0
        self.up = 0
        self.down = 0

    def line(self):
        return "%d %d %d %d\n" % (self.round_trips, self.connections, self.up, self.down)

    def save(self):
        if self.path:
            tmp = self.path + ".tmp"
            with open(tmp, "w") as f:
                f.write(self.line())
            os.replace(tmp, self.path)


class Http2Frames:
    """Follows the frames a client sends; feed() says whether a chunk starts a request."""

    PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
    HEADERS = 0x1

    def __init__(self):
        self.preface = len(self.PREFACE)  # bytes of the preface still to skip
        self.header = b""  # the start of a frame header cut by the end of a chunk
        self.body = 0  # bytes of the current frame's payload still to skip

    def feed(self, chunk):
        if self.preface:
            skip = min(self.preface, len(chunk))
            chunk = chunk[skip:]
            self.preface -= skip
        data = self.header + chunk
        self.header = b""
        started = False
        pos = 0
        while pos < len(data):
            if self.body:
                n = min(self.body, len(data) - pos)
                pos += n
                self.body -= n
                continue
            if len(data) - pos < 9:
                self.header = data[pos:]
                break
            self.body = int.from_bytes(data[pos:pos + 3], "big")
            started = started or data[pos + 3] == self.HEADERS
            pos += 9
        return started


async def pump(reader, writer, delay, kbps, on_chunk):
    """Copy reader to writer, each chunk delayed by `delay` seconds from when it arrived."""
    loop = asyncio.get_running_loop()
    queue = asyncio.Queue()

    async def deliver():
        while True:
            due, chunk = await queue.get()
            if chunk is None:
                break
            wait = due - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            writer.write(chunk)
            if kbps:
                await asyncio.sleep(len(chunk) * 8 / (kbps * 1000.0))
            await writer.drain()
        writer.close()

    task = asyncio.create_task(deliver())
    try:
        while True:
            chunk = await reader.read(65536)
            if not chunk:
                break
            on_chunk(chunk)
            queue.put_nowait((loop.time() + delay, chunk))
    finally:
        queue.put_nowait((0, None))
        await task


async def main():
    p = argparse.ArgumentParser()
    p.add_argument("--listen", type=int, default=0)
    p.add_argument("--to", required=True)
    p.add_argument("--delay-ms", type=float, default=0)
    p.add_argument("--kbps", type=float, default=0)
    p.add_argument("--stats", default="")
    a = p.parse_args()
    host, port = a.to.rsplit(":", 1)
    counters = Counters(a.stats)
    delay = a.delay_ms / 1000.0

    async def handle(client_r, client_w):
        counters.connections += 1
        state = {"server_spoke": True}
        try:
            server_r, server_w = await asyncio.open_connection(host, int(port))
        except OSError:
            client_w.close()
            return

        frames = Http2Frames()

        def up(chunk):
            counters.up += len(chunk)
            if frames.feed(chunk) and state["server_spoke"]:
                counters.round_trips += 1
                state["server_spoke"] = False
                counters.save()

        def down(chunk):
            counters.down += len(chunk)
            state["server_spoke"] = True

        await asyncio.gather(
            pump(client_r, server_w, delay, a.kbps, up),
            pump(server_r, client_w, delay, a.kbps, down),
            return_exceptions=True,
        )

    server = await asyncio.start_server(handle, "127.0.0.1", a.listen)
    print(server.sockets[0].getsockname()[1], flush=True)
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGUSR1, lambda: sys.stderr.write(counters.line()))
    counters.save()
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
