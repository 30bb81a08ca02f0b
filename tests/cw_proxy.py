"""A small HTTP proxy on 127.0.0.1 in front of the moto server, for CloudWatch faults that moto cannot make.

The botocore here talks to CloudWatch in its JSON 1.0 protocol (``X-Amz-Target:
GraniteServiceVersion20100801.GetMetricData``), as moto answers it. Per GetMetricData request the proxy can:

- ``slow_marker``: hold a request whose body holds these bytes (a dimension value), or ``slow_over``: one of
  more queries than that, for ``slow_s`` before forwarding it: the client's real read timeout fires;
- ``throttle_marker``: answer a request holding these bytes with CloudWatch's real throttling error
  (``__type`` Throttling, HTTP 400; or another ``throttle_code``) ``throttle_times`` times, then forward;
- ``paginate``: cut moto's answer in two pages joined by a ``NextToken`` (moto itself never pages), the
  first page's results marked ``PartialData`` as CloudWatch does.

``calls`` lists, per GetMetricData request, (number of queries, whether it carried a NextToken, outcome).
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from localserver import free_port

JSON_TYPE = "application/x-amz-json-1.0"


@dataclass
class Faults:
    slow_marker: bytes | None = None
    slow_s: float = 0.0
    slow_over: int | None = None  # also hold every request of more than this many queries
    throttle_marker: bytes | None = None
    throttle_times: int = 0
    throttle_code: str = "Throttling"  # the error ``__type`` answered (ExpiredTokenException, …)
    paginate: bool = False
    on_call: Any = None  # called with no argument on every GetMetricData request (a test's clock)
    calls: list[tuple[int, bool, str]] = field(default_factory=list)
    throttled: int = 0
    _pages: dict[str, list] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)


class CloudWatchProxy:
    def __init__(self, upstream: str, faults: Faults):
        self.upstream, self.faults = upstream.rstrip("/"), faults
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    status, headers, answer = proxy.handle(self.path, dict(self.headers), body)
                    self.send_response(status)
                    for key, value in headers.items():
                        if key.lower() not in ("transfer-encoding", "connection", "content-length", "server", "date"):
                            self.send_header(key, value)
                    self.send_header("Content-Length", str(len(answer)))
                    self.end_headers()
                    self.wfile.write(answer)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting: the read timeout under test

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> CloudWatchProxy:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()

    def forward(self, path: str, headers: dict, body: bytes) -> tuple[int, dict, bytes]:
        keep = {k: v for k, v in headers.items() if k.lower() not in ("host", "content-length", "connection")}
        req = urllib.request.Request(self.upstream + path, data=body, headers=keep, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return resp.status, dict(resp.headers), resp.read()
        except urllib.error.HTTPError as err:
            return err.code, dict(err.headers), err.read()

    def handle(self, path: str, headers: dict, body: bytes) -> tuple[int, dict, bytes]:
        f = self.faults
        if not str(headers.get("X-Amz-Target") or "").endswith(".GetMetricData"):
            return self.forward(path, headers, body)
        request = json.loads(body)
        queries, token = len(request.get("MetricDataQueries") or []), request.get("NextToken")
        if f.on_call:
            f.on_call()
        if (f.slow_marker and f.slow_marker in body) or (f.slow_over is not None and queries > f.slow_over):
            f.calls.append((queries, bool(token), "slow"))
            time.sleep(f.slow_s)
            return self.forward(path, headers, body)
        if f.throttle_marker and f.throttle_marker in body:
            with f._lock:
                throttle = f.throttled < f.throttle_times
                f.throttled += throttle
            if throttle:
                f.calls.append((queries, bool(token), "throttled"))
                error = json.dumps({"__type": f.throttle_code, "message": "Rate exceeded"}).encode()
                return 400, {"Content-Type": JSON_TYPE, "x-amzn-RequestId": "throttle-1"}, error
        if token:
            f.calls.append((queries, True, "page-2"))
            answer = {"MetricDataResults": f._pages.pop(token), "Messages": []}
            return 200, {"Content-Type": JSON_TYPE}, json.dumps(answer).encode()
        status, out_headers, answer_bytes = self.forward(path, headers, body)
        if status != 200 or not f.paginate:
            f.calls.append((queries, False, "forwarded"))
            return status, out_headers, answer_bytes
        answer = json.loads(answer_bytes)
        first, second = [], []
        for result in answer.get("MetricDataResults") or []:
            stamps, values = result.get("Timestamps") or [], result.get("Values") or []
            half = len(values) // 2
            first.append({**result, "Timestamps": stamps[:half], "Values": values[:half], "StatusCode": "PartialData"})
            second.append({**result, "Timestamps": stamps[half:], "Values": values[half:], "StatusCode": "Complete"})
        token = f"page-2-{len(f.calls)}"
        f._pages[token] = second
        f.calls.append((queries, False, "page-1"))
        page = {**answer, "MetricDataResults": first, "NextToken": token}
        return 200, {"Content-Type": JSON_TYPE}, json.dumps(page).encode()
