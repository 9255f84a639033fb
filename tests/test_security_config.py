"""Config values that used to pass validation and fail later, and OS errors that used to be
tracebacks: each is tried the way an attacker (or a tired maintainer) would, through the real
`hubsearch` command line, and must now be one line (naming the key and its line for config)
with exit status 2 for config and usage, 1 for the OS.
"""

from __future__ import annotations

import math
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import tomlkit
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hubsearch.cli import main
from hubsearch.settings import (
    SOURCE_SPEC,
    SPEC,
    ConfigError,
    Settings,
    load_settings,
    parse_settings,
)

REPO = Path(__file__).resolve().parents[1]


def hubsearch(*args: str, stdout: object = subprocess.PIPE) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hubsearch.cli", *args],
        stdout=stdout, stderr=subprocess.PIPE, text=True, cwd=REPO, timeout=60,
    )


def one_line(stderr: str) -> str:
    assert "Traceback" not in stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("error: ")
    return lines[0]


@pytest.fixture
def refused(tmp_path, capsys):
    """Load config text through the CLI; return its one error line (exit status 2)."""

    def load(text: str) -> str:
        path = tmp_path / "config.toml"
        path.write_text(text, encoding="utf-8")
        status = main(["sources", "list", "--config", str(path)])
        out = capsys.readouterr()
        assert status == 2, out.out
        return one_line(out.err)

    return load


# ---- server ------------------------------------------------------------------------------


def test_an_empty_server_host_does_not_listen_on_every_interface(refused):
    line = refused('[server]\nhost = ""\nport = 8000\n')
    assert "server.host (line 2)" in line and "0.0.0.0" in line


@pytest.mark.parametrize("host", ["not a host", "999.1.1.1", "[::1]", "-x.example", "a..b"])
def test_a_server_host_that_is_no_address_or_name_is_refused(refused, host):
    assert "server.host (line 2)" in refused(f'[server]\nhost = "{host}"\n')


@pytest.mark.parametrize("port", ["0", "65536", "99999", "-1", "99999999999999999999"])
def test_a_server_port_outside_1_to_65535_is_refused(refused, port):
    line = refused(f"[server]\nport = {port}\n")
    assert "server.port (line 2)" in line and "from 1 to 65535" in line


@pytest.mark.parametrize("port", ["99999", "0", "abc", "-5"])
def test_serve_with_a_port_out_of_range_is_one_line_and_exit_2(port):
    proc = hubsearch("serve", "--config", str(REPO / "config.toml"), "--port", port)
    assert proc.returncode == 2
    assert "--port" in one_line(proc.stderr)


def test_serve_with_an_empty_host_is_one_line_and_exit_2():
    proc = hubsearch("serve", "--config", str(REPO / "config.toml"), "--host", "")
    assert proc.returncode == 2
    assert "--host" in one_line(proc.stderr)


@pytest.mark.parametrize(
    "argv",
    [
        ["report", "--limit", "0"],
        ["report", "--limit", "99999999999999999999"],
        ["search", "nrm", "--limit", "-3"],
        ["extract", "x.pdf", "--timeout", "inf"],
        ["extract", "x.pdf", "--timeout", "nan"],
        ["demo", "--port", "70000"],
    ],
    ids=" ".join,
)
def test_a_limit_out_of_range_on_the_command_line_is_one_line_and_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    assert argv[-2] in one_line(capsys.readouterr().err)


# ---- schedule ----------------------------------------------------------------------------


def test_cron_with_hour_25_is_refused_when_config_loads(refused):
    line = refused('[schedule]\ncron = "30 25 * * *"\n')
    assert "schedule.cron (line 2)" in line and "25" in line


@pytest.mark.parametrize("cron", ["a b c d e", "*/0 * * * *", "0 0 * * 8", "0 0 31 2 *", ""])
def test_a_cron_the_scheduler_would_reject_or_never_run_is_refused(refused, cron):
    assert "schedule.cron (line 3)" in refused(f'# nightly\n[schedule]\ncron = "{cron}"\n')


# ---- TOML itself -------------------------------------------------------------------------


def test_a_duplicate_key_names_the_key_and_the_line_of_the_repeat(refused):
    line = refused("[server]\nport = 8000\n# again\nport = 8001\n")
    assert "duplicate key server.port (line 4)" in line


def test_a_duplicate_key_in_a_source_names_that_source(refused):
    text = (
        '[[sources]]\nname = "a"\nurl = "https://a.example/"\n\n'
        '[[sources]]\nname = "b"\nname = "c"\nurl = "https://b.example/"\n'
    )
    assert "duplicate key sources[1].name (line 7)" in refused(text)


def test_a_duplicate_key_is_one_line_and_exit_2_from_the_command_line(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text("[crawl]\nretry_times = 1\nretry_times = 2\n", encoding="utf-8")
    proc = hubsearch("sources", "list", "--config", str(path))
    assert proc.returncode == 2
    assert "crawl.retry_times (line 3)" in one_line(proc.stderr)


def test_a_key_holding_a_newline_cannot_break_the_error_onto_two_lines(refused):
    line = refused('[server]\n"po\\nrt" = 1\n')
    assert "po\\nrt" in line


# ---- numbers -----------------------------------------------------------------------------

BOUNDED = [(table, opt) for table, opts in SPEC.items() for opt in opts if opt.type in (int, float)]


@pytest.mark.parametrize("value", ["inf", "nan", "-inf", "1e20"])
@pytest.mark.parametrize(("table", "opt"), BOUNDED, ids=[f"{t}.{o.name}" for t, o in BOUNDED])
def test_an_infinite_or_absurd_number_is_refused_with_its_allowed_range(
    refused, table, opt, value
):
    line = refused(f"# tuned\n[{table}]\n{opt.name} = {value}\n")
    assert f"{table}.{opt.name} (line 3)" in line
    assert opt.bounds in line


def test_a_download_delay_of_inf_is_refused_before_a_crawl_could_wait_forever(refused):
    line = refused("[crawl]\ndownload_delay = inf\n")
    assert line == "error: crawl.download_delay (line 2): must be from 0 to 60, got inf"


def test_a_parse_memory_of_1e20_megabytes_is_refused(refused):
    line = refused("[crawl]\nparse_memory_mb = 1e20\n")
    assert "crawl.parse_memory_mb (line 2)" in line and "from 64 to 65536" in line


def test_a_document_limit_over_1_gib_is_refused(refused):
    line = refused(f"[crawl]\nmax_document_bytes = {2**30 + 1}\n")
    assert "crawl.max_document_bytes (line 2)" in line


# ---- sources -----------------------------------------------------------------------------


def source(name: str, url: str) -> str:
    return f"[[sources]]\nname = {tomlkit.string(name).as_string()}\nurl = \"{url}\"\n\n"


def test_a_trailing_slash_and_capitals_do_not_make_a_second_source(refused):
    text = source("a", "https://Example.org/a/") + source("b", "https://example.org/a")
    line = refused(text)
    assert "sources[1].url (line 7)" in line and "'a'" in line


@pytest.mark.parametrize(
    "second",
    ["https://EXAMPLE.org:443/a", "https://example.org/a#top", "HTTPS://example.org/a/"],
)
def test_the_same_page_spelled_another_way_is_the_same_source(refused, second):
    line = refused(source("a", "https://example.org/a") + source("b", second))
    assert "sources[1].url" in line and "same page" in line


def test_different_query_strings_are_different_sources():
    text = source("en", "https://example.org/a?lang=en") + source("cy", "https://example.org/a?lang=cy")
    assert len(parse_settings(text, Path("config.toml")).sources) == 2


@pytest.mark.parametrize("port", ["99999", "abc", "0"])
def test_a_source_with_a_bad_port_is_refused_when_config_loads(refused, port):
    line = refused(source("a", "https://ok.example/") + source("b", f"https://example.org:{port}/"))
    assert "sources[1].url (line 7)" in line and "port" in line


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("evil\nname", "control"),
        ("bell\u0007", "control"),
        ("esc\u001b[31mred", "control"),
        ("x" * 65, "longer than 64"),
    ],
    ids=["empty", "blank", "newline", "bell", "ansi-escape", "too-long"],
)
def test_a_source_name_that_is_empty_unprintable_or_huge_is_refused(refused, name, reason):
    line = refused(source(name, "https://example.org/"))
    assert "sources[0].name (line 2)" in line and reason in line


def test_a_duplicate_source_name_is_refused(refused):
    line = refused(source("a", "https://a.example/") + source("a", "https://b.example/"))
    assert "sources[1].name (line 6)" in line and "duplicate" in line


# ---- files -------------------------------------------------------------------------------


def test_a_missing_synonyms_file_is_refused_instead_of_silently_ignored(refused):
    line = refused('[search]\nsynonyms_path = "no-such-synonyms.toml"\n')
    assert "search.synonyms_path (line 2)" in line and "no such file" in line


def test_a_synonyms_path_that_is_a_directory_is_refused(refused, tmp_path):
    (tmp_path / "syn").mkdir()
    assert "search.synonyms_path (line 2)" in refused('[search]\nsynonyms_path = "syn"\n')


def test_the_shipped_configs_still_load_with_their_synonyms_files():
    for config in (REPO / "config.toml", REPO / "examples" / "demo-hub" / "config.toml"):
        synonyms = load_settings(config).search.synonyms_path
        assert synonyms is not None and synonyms.is_file()


def test_a_store_path_that_is_a_directory_is_refused(refused, tmp_path):
    (tmp_path / "data").mkdir()
    line = refused('[storage]\nstore_path = "data"\n')
    assert "storage.store_path (line 2)" in line and "is a directory" in line


def test_an_index_dir_that_is_a_regular_file_is_refused(refused, tmp_path):
    (tmp_path / "index").write_text("not a directory")
    line = refused('[storage]\nindex_dir = "index"\n')
    assert "storage.index_dir (line 2)" in line and "not a directory" in line


# ---- OS and database errors in the command line ------------------------------------------


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (Linux)")
def test_a_full_disk_under_the_output_is_one_line_and_exit_1():
    with open("/dev/full", "w") as full:
        proc = hubsearch("sources", "list", "--config", str(REPO / "config.toml"), stdout=full)
    assert proc.returncode == 1
    assert one_line(proc.stderr) == "error: No space left on device"


def test_a_store_folder_that_is_really_a_file_is_one_line_not_a_traceback(tmp_path):
    # The schedule creates its job store next to the document store; the OS refuses to make
    # a directory where a regular file is.
    (tmp_path / "blocker").write_text("a file, not a folder")
    config = tmp_path / "config.toml"
    config.write_text('[storage]\nstore_path = "blocker/hub.sqlite"\n', encoding="utf-8")
    proc = hubsearch("schedule", "--config", str(config))
    assert proc.returncode == 1
    line = one_line(proc.stderr)
    assert str(tmp_path / "blocker") in line
    assert re.search(r"File exists|Not a directory", line)


def test_a_store_that_is_not_a_database_is_one_line_not_a_traceback(tmp_path):
    (tmp_path / "hub.sqlite").write_bytes(b"this is not SQLite " * 200)
    config = tmp_path / "config.toml"
    config.write_text('[storage]\nstore_path = "hub.sqlite"\n', encoding="utf-8")
    proc = hubsearch("report", "--config", str(config))
    assert proc.returncode == 1
    assert one_line(proc.stderr) == "error: database: file is not a database"


# ---- fuzz: the loader gives Settings or one ConfigError line, never anything else --------


@pytest.fixture(scope="module")
def config_dir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="hubsearch-fuzz-") as tmp:
        yield Path(tmp)


def settles(text: str, config_dir: Path) -> None:
    try:
        result = parse_settings(text, config_dir / "config.toml")
    except ConfigError as exc:
        message = str(exc)
        assert message and message.isprintable(), repr(message)
        return
    assert isinstance(result, Settings)
    for table, opts in SPEC.items():
        for opt in opts:
            value = getattr(getattr(result, table), opt.name)
            if opt.type in (int, float):
                assert math.isfinite(value) and opt.min <= value <= opt.max


OPTION_NAMES = [o.name for opts in SPEC.values() for o in opts] + [o.name for o in SOURCE_SPEC]
HEADERS = [f"[{t}]" for t in SPEC] + ["[[sources]]", "[sources]", "[[server]]", "[nope]"]
LITERALS = [
    "inf", "-inf", "nan", "1e20", "-1", "0", "65536", "99999999999999999999", "0.5", "true",
    '""', '" "', '"."', '"/"', '"config.toml"', '"30 25 * * *"', '"a b c d e"', "[]", "[1]",
    '["a", ""]', "{a = 1}", "0x10", "1979-05-27", '"\\u0007"', '"https://Example.org/a/"',
    '"http://e.org:99999/"', '"http://[zz]/"', '"\\u0000"', '"10.0.0.0/8"', '["::/0"]',
]
toml_value = st.one_of(
    st.sampled_from(LITERALS),
    st.text(max_size=24).map(lambda s: tomlkit.string(s).as_string()),
)
toml_line = st.one_of(
    st.sampled_from(HEADERS),
    st.builds("{} = {}".format, st.sampled_from(OPTION_NAMES), toml_value),
    st.text(max_size=30),
)
FUZZ = settings(max_examples=250, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])


@FUZZ
@given(text=st.lists(toml_line, max_size=14).map("\n".join))
def test_random_toml_ish_text_gives_settings_or_one_config_error_line(config_dir, text):
    settles(text, config_dir)


ALL_OPTIONS = [(t, o) for t, opts in SPEC.items() for o in opts] + [
    ("sources", o) for o in SOURCE_SPEC
]
HOSTS = ["example.org", "Example.ORG", "[::1]", "[zz]", "[::1", "::1]", "%zz", "", "a@b", "0x7f.1"]
url_ish = st.builds(
    "{}://{}{}/{}".format,
    st.sampled_from(["http", "https", "HTTP", "ftp", ""]),
    st.one_of(st.sampled_from(HOSTS), st.text(alphabet="abcXYZ.-[]:%@0189", max_size=16)),
    st.sampled_from(["", ":", ":0", ":80", ":443", ":99999", ":abc", ":-1"]),
    st.text(max_size=8),
)
python_value = st.one_of(
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    url_ish,
    st.lists(st.one_of(st.text(max_size=10), st.integers()), max_size=3),
)


@FUZZ
@given(option=st.sampled_from(ALL_OPTIONS), value=python_value, second_url=url_ish)
def test_any_value_for_any_key_gives_settings_or_one_config_error_line(
    config_dir, option, value, second_url
):
    table, opt = option
    first = {"name": "a", "url": "https://example.org/"}
    doc: dict = {"sources": [first, {"name": "b", "url": second_url}]}
    if table == "sources":
        first[opt.name] = value
    else:
        doc[table] = {opt.name: value}
    settles(tomlkit.dumps(doc), config_dir)
