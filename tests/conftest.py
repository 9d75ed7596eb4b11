"""Fixtures: real site folders built by the real pipeline on the bundled data."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from nova_pipeline.config import load_config
from nova_pipeline.demo import ESTOQUE, FORECAST, SUPRIMENTOS, demo_file, make_demo

REPO = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
HEADER = "DEPÓSITO;PRODUTO/SERVIÇO;MATERIAL;FAMÍLIA;NOME FORNEC.;QUANTIDADE;U.M.;DATA REQUISITADA;SOLICITAÇÃO;DATA SOLICITADO;DATA DE COMPRA"
STOCK_HEADER = "DEPÓSITO;PRODUTO;DESCRIÇÃO;U.M.;SALDO;EM PEDIDO;DATA POSIÇÃO"


def write_export(path: Path, lines: list[str], header: str = HEADER, encoding: str = "cp1252") -> Path:
    """Write an ERP-style export: the given encoding, CRLF."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(("\r\n".join([header, *lines]) + "\r\n").encode(encoding))
    return path


def make_site(root: Path, with_data: bool = False):
    """An empty site (config + folders); with_data adds the bundled real drops."""
    if with_data:
        return make_demo(root)
    for sub in ("landing", "ml_drops", "lake", "warehouse", "exports"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    (root / "config.toml").write_text('[paths]\nlanding = "landing"\n', encoding="utf-8")
    return load_config(root / "config.toml")


def run_cli(*args: str, cwd: Path | None = None, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "nova_pipeline", *args], capture_output=True, text=True,
                          cwd=cwd, env={**os.environ, **(env or {})}, timeout=timeout)


@pytest.fixture
def site(tmp_path):
    return make_site(tmp_path / "site")


@pytest.fixture
def demo_site(tmp_path):
    return make_site(tmp_path / "site", with_data=True)


@pytest.fixture(scope="session")
def built_demo(tmp_path_factory):
    """The bundled real data built once by the real CLI; tests must only read it."""
    root = tmp_path_factory.mktemp("built") / "site"
    result = run_cli("demo", str(root))
    assert result.returncode == 0, result.stderr
    return load_config(root / "config.toml")


@pytest.fixture
def copy_demo_file():
    def copy(name: str, dest: Path) -> Path:
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(demo_file(name), dest)
        return dest
    return copy


__all__ = ["ESTOQUE", "FORECAST", "SUPRIMENTOS"]
