"""Run the `monitor` command in-process (typer's runner) or as a real subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner, Result

from monitor.cli import app
from monitor.config import load_settings
from monitor.store import open_store
from monitor.store.base import Store

REPO = Path(__file__).resolve().parent.parent


def monitor(config: Path, *args: str, env: dict[str, str] | None = None) -> Result:
    result = CliRunner().invoke(app, ["--config", str(config), *args], env=env)
    return result


def monitor_process(
    config: Path, *args: str, env: dict[str, str] | None = None, **kwargs: object
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "monitor", "--config", str(config), *args],
        cwd=REPO,
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kwargs,  # type: ignore[arg-type]
    )


def store_for(config: Path) -> Store:
    store = open_store(load_settings(config).db_url)
    store.migrate()
    return store


def corpus_dir(config: Path) -> Path:
    return load_settings(config).corpus_path
