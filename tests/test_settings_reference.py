"""The configuration reference (`hubsearch settings`, docs/configuration.md) is made from the
tables the settings are checked against, and the shipped files never drift from it."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

from hubsearch.settings import SOURCE_SPEC, SPEC
from hubsearch.settings_reference import as_markdown

ROOT = Path(__file__).resolve().parent.parent


def test_docs_configuration_md_is_the_generated_reference():
    shipped = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert shipped == as_markdown(), (
        "docs/configuration.md is out of date: run "
        "`.venv/bin/hubsearch settings --markdown > docs/configuration.md`")


def test_hubsearch_settings_lists_every_key_with_its_default():
    out = subprocess.run([sys.executable, "-m", "hubsearch.cli", "settings"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stderr == ""
    for section, options in SPEC.items():
        assert f"[{section}]" in out.stdout
        for option in options:
            assert f"  {option.name} = " in out.stdout, option.name
    assert "  port = 8000    (integer, from 1 to 65535)" in out.stdout
    assert "  url = required" in out.stdout


def test_the_shipped_configs_set_only_documented_keys():
    documented = {section: {o.name for o in options} for section, options in SPEC.items()}
    source_keys = {o.name for o in SOURCE_SPEC}
    for path in [ROOT / "config.toml", *sorted((ROOT / "hubsearch").rglob("config.toml"))]:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        for section, values in data.items():
            if section == "sources":
                for source in values:
                    assert set(source) <= source_keys, (path, source)
            elif isinstance(values, dict):
                assert set(values) <= documented.get(section, set()), (path, section)
