"""A relay in another city: an SMTP sink that answers each end of DATA after a delay.

`python -m bench.slowsink PORT DELAY_SECONDS` listens on 127.0.0.1:PORT. It speaks just enough
SMTP for shopmail's client and Postfix's smtp-source (EHLO with PIPELINING, MAIL, RCPT, DATA,
RSET, NOOP, QUIT), throws the messages away and waits DELAY seconds before the reply to each
final dot — on that session only: the wait is a timer of the session's own, so it blocks none
of the others (Postfix's smtp-sink delays only in whole seconds). Pipelined commands queue
behind the delayed reply, in order, as on a real relay. `XCOUNT` answers
`250 <messages accepted> <first> <last>` (the time.monotonic() of the first and the last): the
bench's check that the sink received exactly what was queued.
"""

from __future__ import annotations

import asyncio
import socket
import sys
import time

EHLO = b"250-slow-sink\r\n250-PIPELINING\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 SIZE 0\r\n"
REPLIES = {
    b"HELO": b"250 slow-sink\r\n",
    b"MAIL": b"250 2.1.0 Ok\r\n",
    b"RCPT": b"250 2.1.5 Ok\r\n",
    b"RSET": b"250 2.0.0 Ok\r\n",
    b"NOOP": b"250 2.0.0 Ok\r\n",
}
END = b"\r\n.\r\n"


class Sink:
    """What every session shares: the delay and the count."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.messages = 0
        self.first = self.last = 0.0  # time.monotonic() of the first and last accepted message


class Session(asyncio.Protocol):
    """One SMTP session as a protocol (cheaper than streams: the sink shares the cores)."""

    def __init__(self, sink: Sink) -> None:
        self.sink = sink
        self.buffer = bytearray()
        self.in_data = False
        self.waiting = False  # a delayed reply to a final dot is due; input queues behind it
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.transport.write(b"220 slow-sink ESMTP\r\n")

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if not self.waiting:
            self.work()

    def work(self) -> None:
        """Answer every complete command in the buffer, up to the next final dot."""
        out: list[bytes] = []
        buffer = self.buffer
        while True:
            if self.in_data:
                end = buffer.find(END)
                if end < 0:
                    break
                del buffer[: end + len(END)]
                self.in_data = False
                self.waiting = True
                asyncio.get_running_loop().call_later(self.sink.delay, self.answer_dot)
                break
            end = buffer.find(b"\r\n")
            if end < 0:
                break
            verb = bytes(buffer[:4]).upper()
            del buffer[: end + 2]
            if verb == b"EHLO":
                out.append(EHLO)
            elif verb in REPLIES:
                out.append(REPLIES[verb])
            elif verb == b"DATA":
                out.append(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                self.in_data = True
            elif verb == b"QUIT":
                out.append(b"221 2.0.0 Bye\r\n")
                self.transport.write(b"".join(out))
                self.transport.close()
                return
            elif verb == b"XCOU":
                sink = self.sink
                out.append(f"250 {sink.messages} {sink.first:.6f} {sink.last:.6f}\r\n".encode())
            else:
                out.append(b"502 5.5.2 Error: command not recognized\r\n")
        if out:
            self.transport.write(b"".join(out))

    def answer_dot(self) -> None:
        self.waiting = False
        if self.transport.is_closing():
            return
        sink = self.sink
        sink.last = time.monotonic()
        if not sink.messages:
            sink.first = sink.last
        sink.messages += 1
        self.transport.write(b"250 2.0.0 Ok: queued\r\n")
        self.work()


async def serve(port: int, delay: float) -> None:
    sink = Sink(delay)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: Session(sink), "127.0.0.1", port, backlog=512)
    async with server:
        await server.serve_forever()


def count(port: int) -> tuple[int, float, float]:
    """The messages the sink on `port` has accepted so far, and when (time.monotonic(), the
    same clock in every process) it accepted the first and the last."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        stream = sock.makefile("rwb")
        stream.readline()  # greeting
        stream.write(b"XCOUNT\r\nQUIT\r\n")
        stream.flush()
        _, messages, first, last = stream.readline().split()
        return int(messages), float(first), float(last)


if __name__ == "__main__":
    asyncio.run(serve(int(sys.argv[1]), float(sys.argv[2])))
