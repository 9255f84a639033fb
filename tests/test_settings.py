"""config.toml loading: the real file, one-line errors that name the key and line, the docs."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from hubsearch.settings import (
    SOURCE_SPEC,
    SPEC,
    ConfigError,
    load_settings,
    settings_from_json,
    settings_to_json,
)

REPO = Path(__file__).resolve().parents[1]
REAL_CONFIG = REPO / "config.toml"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_real_config_loads_with_its_three_sources_in_london_time():
    settings = load_settings(REAL_CONFIG)
    assert [s.name for s in settings.sources] == [
        "lff-slavery-en",
        "lff-slavery-cy",
        "gov-wales-modern-slavery",
    ]
    assert [s.language for s in settings.sources] == ["en", "cy", "en"]
    assert settings.schedule.timezone == "Europe/London"
    assert settings.schedule.misfire_grace_hours == 6.0


def test_an_unknown_key_names_the_key_and_its_line(tmp_path):
    path = write(tmp_path, '[server]\nhost = "127.0.0.1"\nprot = 8000\n')
    with pytest.raises(ConfigError, match=r"server\.prot \(line 3\)"):
        load_settings(path)


def test_a_wrong_type_names_the_key_and_its_line(tmp_path):
    path = write(tmp_path, '# comment\n[server]\nport = "eighty"\n')
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    message = str(info.value)
    assert "server.port (line 3)" in message
    assert "eighty" in message
    assert "\n" not in message


def test_a_malformed_source_url_names_the_source(tmp_path):
    path = write(tmp_path, '[[sources]]\nname = "a"\nurl = "htp//example.org"\n')
    with pytest.raises(ConfigError, match=r"sources\[0\]\.url \(line 3\)"):
        load_settings(path)


def test_duplicate_source_names_are_refused(tmp_path):
    path = write(
        tmp_path,
        '[[sources]]\nname = "a"\nurl = "https://a.example/"\n\n'
        '[[sources]]\nname = "a"\nurl = "https://b.example/"\n',
    )
    with pytest.raises(ConfigError, match=r"sources\[1\]\.name \(line 6\).*duplicate"):
        load_settings(path)


def test_invalid_toml_gives_the_line_and_column(tmp_path):
    path = write(tmp_path, '[server]\nhost = "127.0.0.1\n')
    with pytest.raises(ConfigError, match=r"not valid TOML \(line 2, column \d+\)"):
        load_settings(path)


def test_relative_storage_paths_resolve_next_to_the_config_file(tmp_path, monkeypatch):
    path = write(tmp_path, '[storage]\nstore_path = "var/store.sqlite"\n')
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    settings = load_settings(path)
    assert settings.storage.store_path == tmp_path.resolve() / "var" / "store.sqlite"
    assert settings.storage.index_dir == tmp_path.resolve() / "data" / "index"


def test_every_option_is_documented_in_the_repo_config():
    # Like Datasette's test_docs: a setting added to SPEC must be shown (set or commented
    # out) in the config.toml maintainers copy from, and must carry a usable default.
    text = REAL_CONFIG.read_text(encoding="utf-8")
    options = [(table, opt) for table, opts in SPEC.items() for opt in opts]
    options += [("sources", opt) for opt in SOURCE_SPEC]
    missing = [
        f"{table}.{opt.name}"
        for table, opt in options
        if not re.search(rf"^\s*#?\s*{re.escape(opt.name)}\s*=", text, re.MULTILINE)
    ]
    assert missing == []
    for table, opt in options:
        assert opt.help.strip(), f"{table}.{opt.name} has no help"
        if opt.default is not ...:
            ok = isinstance(opt.default, opt.type) or (
                opt.type is float and isinstance(opt.default, int)
            )
            assert ok, f"{table}.{opt.name}: default {opt.default!r} is not {opt.type.__name__}"


def test_the_cli_reports_a_bad_config_as_one_line_and_exit_status_2(tmp_path):
    bad = write(tmp_path, '[server]\nport = "eighty"\n')
    proc = subprocess.run(
        [sys.executable, "-m", "hubsearch.cli", "sources", "list", "--config", str(bad)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error:")
    assert "server.port" in lines[0]


def test_every_number_option_declares_its_bounds_and_its_default_lies_within_them():
    # The bounds live in the one table; a number added without them would accept inf or 1e20.
    numbers = [(table, opt) for table, opts in SPEC.items() for opt in opts
               if opt.type in (int, float)]
    numbers += [("sources", opt) for opt in SOURCE_SPEC if opt.type in (int, float)]
    assert numbers
    for table, opt in numbers:
        assert opt.min is not None and opt.max is not None, f"{table}.{opt.name} is unbounded"
        assert opt.min <= opt.default <= opt.max, f"{table}.{opt.name}: default out of range"


def test_ocr_is_on_by_default_and_its_switch_and_page_limit_are_checked(tmp_path):
    crawl = load_settings(write(tmp_path, "")).crawl
    assert (crawl.ocr, crawl.ocr_max_pages) == (True, 50)
    crawl = load_settings(write(tmp_path, "[crawl]\nocr = false\nocr_max_pages = 5\n")).crawl
    assert (crawl.ocr, crawl.ocr_max_pages) == (False, 5)
    with pytest.raises(ConfigError, match=r"crawl\.ocr \(line 2\): expected bool"):
        load_settings(write(tmp_path, '[crawl]\nocr = "no"\n'))
    with pytest.raises(ConfigError, match=r"crawl\.ocr_max_pages \(line 2\): must be from 1"):
        load_settings(write(tmp_path, "[crawl]\nocr_max_pages = 0\n"))


def test_the_urgent_help_notice_is_set_per_language_and_empty_turns_it_off(tmp_path):
    settings = load_settings(write(tmp_path, '[page]\nurgent_help_en = "Call 999."\n'
                                             'urgent_help_cy = ""\n'))
    assert settings.page.urgent_help("en") == "Call 999."
    assert settings.page.urgent_help("cy") == ""
    assert "999" in load_settings(REAL_CONFIG).page.urgent_help("cy")


@pytest.mark.parametrize("value", ['"line one\\nline two"', '"' + "x" * 301 + '"'])
def test_a_notice_that_is_not_one_short_line_is_refused(tmp_path, value):
    with pytest.raises(ConfigError, match=r"page\.urgent_help_en \(line 2\)"):
        load_settings(write(tmp_path, f"[page]\nurgent_help_en = {value}\n"))


def test_a_source_is_shown_by_its_title_in_each_language(tmp_path):
    text = ('[[sources]]\nname = "a"\nurl = "https://example.org/"\ntitle = "Guide A"\n'
            'title_cy = "Canllaw A"\n[[sources]]\nname = "b"\nurl = "https://example.org/b"\n')
    a, b = load_settings(write(tmp_path, text)).sources
    assert (a.display_title("en"), a.display_title("cy")) == ("Guide A", "Canllaw A")
    assert (b.display_title("en"), b.display_title("cy")) == ("b", "b")
    with pytest.raises(ConfigError, match=r"sources\[0\]\.title \(line 4\)"):
        load_settings(write(tmp_path, text.replace('"Guide A"', '"Guide\\tA"')))


def test_the_backend_is_whoosh_unless_the_config_names_one(tmp_path):
    assert load_settings(write(tmp_path, "")).backend.kind == "whoosh"
    named = load_settings(write(tmp_path, '[backend]\nkind = "whoosh"\n'))
    assert named.backend.kind == "whoosh"
    # A crawl's child process gets the settings as JSON: the backend goes with them.
    assert settings_from_json(settings_to_json(named)).backend == named.backend


@pytest.mark.parametrize("kind, reason", [
    ("lucene", "expected one of 'whoosh', 'opensearch', got 'lucene'"),
])
def test_a_backend_kind_that_cannot_be_used_is_one_line_naming_the_key(tmp_path, kind, reason):
    path = write(tmp_path, f'[server]\nport = 8000\n\n[backend]\nkind = "{kind}"\n')
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    assert str(info.value) == f"backend.kind (line 5): {reason}"


def test_the_opensearch_settings_are_read_and_go_with_a_crawl_to_its_child(tmp_path):
    settings = load_settings(write(tmp_path, (
        '[backend]\nkind = "opensearch"\nurls = ["http://10.0.0.5:9200", "https://os2:9200"]\n'
        'index_prefix = "wales-hub"\nshards = 3\nreplicas = 2\n')))
    backend = settings.backend
    assert (backend.kind, backend.urls, backend.index_prefix, backend.shards,
            backend.replicas) == ("opensearch", ("http://10.0.0.5:9200", "https://os2:9200"),
                                  "wales-hub", 3, 2)
    assert settings_from_json(settings_to_json(settings)).backend == backend


@pytest.mark.parametrize("line, reason", [
    ('urls = []', "backend.urls (line 3): name at least one OpenSearch node"),
    ('urls = ["ftp://os:9200"]', "backend.urls (line 3): not an http(s) URL of a node"),
    # A password in the config would be committed with it and shown in every error line.
    ('urls = ["http://admin:secret@os:9200"]', "backend.urls (line 3): not an http(s) URL"),
    ('index_prefix = "Hub*"', "backend.index_prefix (line 3): expected lower-case letters"),
    ('index_prefix = "../x"', "backend.index_prefix (line 3): expected lower-case letters"),
    ('ca_file = "no-such.pem"', "backend.ca_file (line 3): no such file"),
    ('replicas = 100', "backend.replicas"),
])
def test_a_bad_opensearch_setting_is_one_line_naming_the_key(tmp_path, line, reason):
    path = write(tmp_path, f'[backend]\nkind = "opensearch"\n{line}\n')
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    message = str(info.value)
    assert reason in message and "\n" not in message
    assert "secret" not in message


@pytest.mark.parametrize("url", ["https://%zz.org/", "https://a..b.org/",
                                 "http://exa%20mple.org/", "https://./"])
def test_a_source_whose_host_is_no_host_name_is_refused_in_one_line(tmp_path, url):
    # urlsplit takes these; the crawler would then fail on them every night, unexplained.
    path = write(tmp_path, f'[[sources]]\nname = "a"\nurl = "{url}"\n')
    with pytest.raises(ConfigError, match=r"sources\[0\]\.url \(line 3\): not an http\(s\) URL"):
        load_settings(path)


@pytest.mark.parametrize("url", ["https://llyw.cymru/", "https://bücher.example/a",
                                 "https://my_host.example.org/", "https://gov.wales./x",
                                 "https://198.51.100.7:8443/", "https://[2001:db8::1]/"])
def test_host_names_in_any_script_and_ip_addresses_are_accepted(url):
    from hubsearch.settings import is_http_url

    assert is_http_url(url)
