"""The offline install (issue 16): `make wheels` where the index is reachable, then `make
install-offline` inside a network namespace with no interface at all (`unshare -n`), pip told to use
the wheels folder alone; the installed pipeline then builds the demo there, offline."""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def _can_unshare() -> bool:
    return shutil.which("unshare") is not None and subprocess.run(["unshare", "-n", "true"]).returncode == 0


pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not _can_unshare(), reason="needs `unshare -n` (root or user namespaces) for a "
                                                            "machine without network")]


def test_install_offline_from_wheels_then_build_without_network(tmp_path):
    wheels, prefix = tmp_path / "wheels", tmp_path / "plant"
    made = subprocess.run(["make", "-C", str(REPO), "wheels", f"WHEELS={wheels}"], capture_output=True, text=True)
    assert made.returncode == 0, made.stderr[-2000:]
    assert (wheels / "requirements.lock").exists() and len(list(wheels.glob("*.whl"))) >= 30
    pinned = {line.split("==")[0].lower().replace("_", "-") for line in (REPO / "requirements.lock").read_text().splitlines()
              if "==" in line}
    have = {w.name.split("-")[0].lower().replace("_", "-") for w in wheels.glob("*.whl")}
    assert pinned <= have | {"nova-corrente"}
    env = {**os.environ, "PIP_CONFIG_FILE": os.devnull}
    # no network at all: a namespace whose only interface is a down loopback
    probe = subprocess.run(["unshare", "-n", "python3", "-c",
                            "import socket; socket.create_connection(('1.1.1.1', 443), timeout=2)"],
                           capture_output=True, text=True)
    assert probe.returncode != 0 and "unreachable" in probe.stderr.lower()
    offline = subprocess.run(["unshare", "-n", "make", "-C", str(REPO), "install-offline", f"WHEELS={wheels}",
                              f"PREFIX={prefix}"], capture_output=True, text=True, env=env)
    assert offline.returncode == 0, offline.stdout[-2000:] + offline.stderr[-2000:]
    assert f"installed offline into {prefix}" in offline.stdout
    demo = subprocess.run(["unshare", "-n", str(prefix / "bin" / "nova-pipeline"), "demo", str(tmp_path / "site")],
                          capture_output=True, text=True, env=env)
    assert demo.returncode == 0 and "published v1" in demo.stdout, demo.stderr[-2000:]
    pip_list = subprocess.run([str(prefix / "bin" / "python"), "-m", "pip", "list"], capture_output=True, text=True).stdout
    assert "pytest" not in pip_list and "seaweedfs" not in pip_list.lower()
