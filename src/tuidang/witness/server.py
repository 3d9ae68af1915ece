"""The witness over HTTP: ``POST /add-checkpoint`` (C2SP tlog-witness), and ``GET /``,
which says who the witness is and which logs it follows. A small threaded server from
the standard library: each connection is a thread with its own database connection,
closed when the connection ends."""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from django.db import connections

from tuidang.witness.services import Answer, Witness, witness_add_checkpoint

MAX_BODY = 64 * 1024  # a checkpoint, 63 proof lines and signatures fit many times over


class WitnessServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, witness: Witness, address: tuple[str, int]) -> None:
        super().__init__(address, Handler)
        self.witness = witness


class Handler(BaseHTTPRequestHandler):
    server: WitnessServer
    protocol_version = "HTTP/1.1"  # keep-alive, as the spec asks clients to use
    # The headers and the body leave in two writes: without this, each answer on a
    # kept-alive connection waits for the client's delayed acknowledgement (some 40 ms).
    disable_nagle_algorithm = True

    def do_POST(self) -> None:
        if self.path.rstrip("/") != "/add-checkpoint":
            self._answer(Answer(404, "POST /add-checkpoint\n"))
            return
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            self._answer(Answer(411, "a Content-Length is needed\n"), close=True)
            return
        if not 0 <= length <= MAX_BODY:
            self._answer(Answer(413, f"at most {MAX_BODY} bytes\n"), close=True)
            return
        request = self.rfile.read(length)
        self._answer(witness_add_checkpoint(witness=self.server.witness, request=request))

    def do_GET(self) -> None:
        if self.path != "/":
            self._answer(Answer(404, "POST /add-checkpoint\n"))
            return
        witness = self.server.witness
        lines = [f"witness {witness.cosigner.key}"]
        lines += [f"log {verifier}" for verifier in witness.logs.values()]
        self._answer(Answer(200, "\n".join(lines) + "\n"))

    def _answer(self, answer: Answer, *, close: bool = False) -> None:
        body = answer.body.encode()
        self.send_response(answer.status)
        self.send_header("Content-Type", answer.content_type)
        self.send_header("Content-Length", str(len(body)))
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(body)

    def finish(self) -> None:
        super().finish()
        connections.close_all()  # this thread's, as the connection ends

    def log_message(self, format: str, *args: object) -> None:
        pass  # requests hold nothing private, but a witness need not log each one
