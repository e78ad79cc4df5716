"""One way to serve HTTP on 127.0.0.1 for the test's stand-ins (Athena's API,
Lambda's Invoke and Runtime APIs): a quiet handler that reads a body and
writes a reply, and a threaded server on a free port."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class QuietHandler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length", 0)))

    def reply(self, status: int, data: bytes = b"", headers=None):
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def serve(handler_class) -> ThreadingHTTPServer:
    """`handler_class` served on 127.0.0.1 (a free port) by a daemon thread."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler_class)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
