"""A real HTTP server on 127.0.0.1 that replays the recorded answers of the public services.

    python tests/replay_server.py LOG_FILE     -> prints its port on the first line of stdout

The first path segment(s) choose how it behaves, so one server serves every test by giving each
provider a different base URL ([external] bcb_sgs = "http://127.0.0.1:PORT/ok"):

    /ok/...                 200 with the recording the rest of the path asks for
    /flaky/ID/N/...         503 for the first N requests of ID, then 200
    /busy/ID/...            429 with Retry-After: 1 for the first request of ID, then 200
    /slow/SECONDS/...       waits, then 200
    /status/CODE/...        that status, an error page as body
    /malformed/...          200 with the recording cut in half (not valid JSON)

Every request is appended to LOG_FILE as a JSON line (time, path with query, answer status).
"""
from __future__ import annotations

import json
import sys
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

RECORDINGS = Path(__file__).resolve().parent.parent / "nova_pipeline" / "demo_data" / "external"
ROUTES = (  # a piece of the real path -> the recorded answer
    ("bcdata.sgs.432", "bcb_sgs_432_selic.json"),
    ("/olinda/servico/PTAX/", "bcb_olinda_ptax_usd.json"),
    ("/values/t/1737/", "ibge_sidra_ipca.json"),
    ("/v1/archive", "open_meteo_archive_salvador.json"),
)
COUNTS: Counter = Counter()
LOCK = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    log_path: Path

    def log_message(self, *args) -> None:  # quiet: the JSON log is the record
        pass

    def do_GET(self) -> None:
        parts = self.path.split("/")
        mode = parts[1] if len(parts) > 1 else ""
        status, headers, body = 200, {"Content-Type": "application/json"}, None
        if mode == "flaky":
            key, n = parts[2], int(parts[3])
            with LOCK:
                COUNTS[key] += 1
                if COUNTS[key] <= n:
                    status = 503
        elif mode == "busy":
            with LOCK:
                COUNTS[parts[2]] += 1
                if COUNTS[parts[2]] == 1:
                    status, headers["Retry-After"] = 429, "1"
        elif mode == "slow":
            time.sleep(float(parts[2]))
        elif mode == "status":
            status = int(parts[2])
        recording = next((name for piece, name in ROUTES if piece in self.path), None)
        if status != 200:
            body, headers["Content-Type"] = f"<html><body>error {status}</body></html>".encode(), "text/html"
        elif recording is None:
            status, body = 404, b'{"error": "no recording for this path"}'
        else:
            body = (RECORDINGS / recording).read_bytes()
            if mode == "malformed":
                body = body[: len(body) // 2]
        with open(self.log_path, "a") as log:
            log.write(json.dumps({"at": time.time(), "path": self.path, "status": status}) + "\n")
        try:
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout tests)
            pass


def main() -> None:
    Handler.log_path = Path(sys.argv[1])
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
