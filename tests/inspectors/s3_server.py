"""A real S3 API on 127.0.0.1 for the storage tests and benchmarks/storage.py: moto's server in its own process,
and in front of it a tiny counting proxy that the scans talk to.

The proxy records every request (method, path) the scan sends, so a test can assert that no PUT, POST or
DELETE ever reached the source, and it can answer chosen keys itself: a 403 or 404, or a few 503 SlowDown
before passing on (throttling). Fixture files are uploaded by boto3 straight to moto, so they are not counted.
"""

import http.client
import os
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-connection"}
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}
ERROR_XML = ('<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code><Message>{message}</Message>'
             '<RequestId>proxy</RequestId></Error>')
FAULTS = {403: ("AccessDenied", "Access Denied"), 404: ("NoSuchKey", "The specified key does not exist."),
          503: ("SlowDown", "Please reduce your request rate.")}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_moto(timeout_s: float = 30.0):
    """(process, port) of a fresh moto server, once it answers."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, **CREDENTIALS})
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"moto server exited with code {proc.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            conn.request("GET", "/")
            conn.getresponse().read()
            return proc, port
        except OSError:
            time.sleep(0.2)
    stop(proc)
    raise RuntimeError(f"moto server did not answer on port {port} within {timeout_s:g} s")


def stop(proc) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


class CountingProxy:
    """HTTP/1.1 proxy to the moto server: `requests` [(method, path)]; `faults` {path: (status, times)};
    `delays` {path: seconds} before passing a request on (a stalled object)."""

    def __init__(self, upstream_port: int):
        self.requests, self.faults, self.delays, self.lock = [], {}, {}, threading.Lock()
        self.signed = []  # per request: whether it carried credentials (an Authorization header)
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # else headers and body, written apart, wait out a delayed ACK (40 ms)

            def log_message(self, *args):
                pass

            def relay(self):
                path = self.path.split("?")[0]
                with proxy.lock:
                    proxy.requests.append((self.command, self.path))
                    proxy.signed.append("Authorization" in self.headers)
                    fault = proxy.faults.get(path)
                    if fault and fault[1] > 0:
                        proxy.faults[path] = (fault[0], fault[1] - 1)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                if path in proxy.delays:
                    time.sleep(proxy.delays[path])
                if fault and fault[1] > 0:
                    code, message = FAULTS[fault[0]]
                    data = b"" if self.command == "HEAD" else ERROR_XML.format(code=code, message=message).encode()
                    self.send_response(fault[0])
                    self.send_header("Content-Type", "application/xml")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                    return
                conn = http.client.HTTPConnection("127.0.0.1", upstream_port, timeout=60)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
                conn.request(self.command, self.path, body=body, headers=headers)
                response = conn.getresponse()
                data = response.read()
                self.send_response(response.status)
                for key, value in response.getheaders():
                    if key.lower() not in HOP_BY_HOP and (key.lower() != "content-length" or self.command == "HEAD"):
                        self.send_header(key, value)
                if self.command != "HEAD":
                    self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)
                conn.close()

            do_GET = do_HEAD = do_PUT = do_POST = do_DELETE = relay

        class Server(ThreadingHTTPServer):
            def handle_error(self, request, client_address):
                pass  # a client that gave up on a stalled request (a killed worker): nothing to report

        self.server = Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def methods(self) -> dict:
        counts = {}
        for method, _ in self.requests:
            counts[method] = counts.get(method, 0) + 1
        return counts

    def reset(self) -> None:
        with self.lock:
            self.requests.clear()
            self.signed.clear()
            self.faults.clear()
            self.delays.clear()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
