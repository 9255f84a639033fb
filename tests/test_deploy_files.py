"""The files docs/deploy.md ships under deploy/: the systemd units pass `systemd-analyze
verify` (where systemd is installed), and every hubsearch command they run is one the CLI
accepts, so a renamed option cannot leave a unit that fails only at night on the server."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from hubsearch.cli import build_parser

ROOT = Path(__file__).resolve().parent.parent
UNITS = sorted((ROOT / "deploy").glob("*.service")) + sorted((ROOT / "deploy").glob("*.timer"))
INSTALLED = "/opt/hubsearch/venv"  # where docs/deploy.md installs the virtualenv


def _commands(unit: Path) -> list[list[str]]:
    return [shlex.split(line.split("=", 1)[1]) for line in unit.read_text().splitlines()
            if line.startswith(("ExecStart=", "ExecStartPost="))]


def test_deploy_ships_the_server_nightly_and_backup_units():
    assert {u.name for u in UNITS} == {
        "hubsearch-server.service", "hubsearch-nightly.service", "hubsearch-nightly.timer",
        "hubsearch-backup.service", "hubsearch-backup.timer"}


@pytest.mark.parametrize("unit", [u for u in UNITS if u.suffix == ".service"],
                         ids=lambda u: u.name)
def test_every_hubsearch_command_in_a_unit_is_accepted_by_the_cli(unit):
    commands = [c for c in _commands(unit) if c[0] == f"{INSTALLED}/bin/hubsearch"]
    assert commands, f"{unit.name} runs no hubsearch command"
    for command in commands:
        args = build_parser().parse_args(command[1:])
        assert args.config == "/etc/hubsearch/config.toml"


@pytest.mark.skipif(shutil.which("systemd-analyze") is None,
                    reason="systemd-analyze is not installed on this machine")
def test_the_units_pass_systemd_analyze_verify(tmp_path):
    # The units name the installed virtualenv; here it is this one.
    venv = Path(sys.executable).parent.parent
    for unit in UNITS:
        (tmp_path / unit.name).write_text(unit.read_text().replace(INSTALLED, str(venv)))
    done = subprocess.run(["systemd-analyze", "verify", *sorted(str(p) for p in
                                                                tmp_path.iterdir())],
                          capture_output=True, text=True, timeout=120)
    # verify exits 0 on unknown keys; its warnings name the file, so none is allowed.
    problems = [line for line in (done.stdout + done.stderr).splitlines()
                if "hubsearch-" in line]
    assert done.returncode == 0 and problems == [], done.stdout + done.stderr
