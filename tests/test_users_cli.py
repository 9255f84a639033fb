"""`hubsearch users`: maintainer accounts made, listed, reset and removed on the server, each
refusal one line; passwords kept only as argon2id hashes."""

from __future__ import annotations

import io
import sys

import pytest

from hubsearch.cli import main
from hubsearch.store import DocumentStore


@pytest.fixture
def config(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('[storage]\nstore_path = "hub.sqlite"\nindex_dir = "index"\n\n'
                    '[[sources]]\nname = "hub"\nurl = "https://hub.example/hub"\n')
    return path


def _users(config, *args: str, stdin: str = "", monkeypatch) -> int:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    return main(["users", *args, "--config", str(config)])


def test_add_list_reset_and_remove_a_maintainer(config, tmp_path, monkeypatch, capsys):
    assert _users(config, "add", "rhian", "--password-stdin",
                  stdin="correct horse battery\n", monkeypatch=monkeypatch) == 0
    assert _users(config, "list", monkeypatch=monkeypatch) == 0
    assert capsys.readouterr().out.splitlines()[-1].startswith("rhian\tadded ")
    assert _users(config, "reset", "rhian", "--password-stdin",
                  stdin="another long passphrase\n", monkeypatch=monkeypatch) == 0
    assert _users(config, "remove", "rhian", monkeypatch=monkeypatch) == 0
    assert _users(config, monkeypatch=monkeypatch) == 0
    assert "rhian\t" not in capsys.readouterr().out
    with DocumentStore(tmp_path / "hub.sqlite") as store:
        actions = [r[0] for r in store.db.execute("SELECT action FROM audit ORDER BY id")]
    assert actions == ["user added", "password reset", "user removed"]


@pytest.mark.parametrize("args, stdin, message", [
    (["add", "Bad Name", "--password-stdin"], "correct horse battery\n",
     "not a maintainer name"),
    (["add", "../../etc", "--password-stdin"], "correct horse battery\n",
     "not a maintainer name"),
    (["add", "rhian", "--password-stdin"], "short\n", "at least 12 characters"),
    (["add", "rhian"], "", "no terminal to ask for the password"),
    (["remove", "nobody"], "", "no maintainer named 'nobody'"),
    (["reset", "nobody", "--password-stdin"], "correct horse battery\n",
     "no maintainer named 'nobody'"),
])
def test_refusals_are_one_line(config, monkeypatch, capsys, args, stdin, message):
    assert _users(config, *args, stdin=stdin, monkeypatch=monkeypatch) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ") and message in err


def test_a_name_taken_is_refused_and_the_first_password_kept(config, tmp_path, monkeypatch,
                                                             capsys):
    from hubsearch import accounts

    _users(config, "add", "rhian", "--password-stdin", stdin="correct horse battery\n",
           monkeypatch=monkeypatch)
    assert _users(config, "add", "rhian", "--password-stdin",
                  stdin="another long passphrase\n", monkeypatch=monkeypatch) == 1
    assert "already exists" in capsys.readouterr().err
    with DocumentStore(tmp_path / "hub.sqlite") as store:
        assert accounts.verify(store, "rhian", "correct horse battery")
        (digest,) = store.db.execute("SELECT password_hash FROM maintainers").fetchone()
    assert digest.startswith("$argon2id$") and "correct horse" not in digest


def test_a_command_without_config_reads_config_toml_where_it_runs(config, monkeypatch, capsys):
    """Every command's default --config is ./config.toml (the demo's own default once
    replaced it for all of them)."""
    monkeypatch.chdir(config.parent)
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    assert main(["users", "list"]) == 0
    assert main(["sources", "list"]) == 0
    assert "https://hub.example/hub" in capsys.readouterr().out
