"""The nightly schedule: its wiring from the config, and real runs against the job store.

The probe jobs live in this module so the persistent store can pickle a reference to them
(pytest's default import mode puts tests/ on sys.path, so `test_schedule` is importable).
"""

from __future__ import annotations

import queue
import sys
import threading
import types
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_MISSED,
)
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.cron import CronTrigger

from hubsearch.settings import Settings, load_settings
from schedules.nightly import build_scheduler, nightly_job, schedule_store_path

LONDON = ZoneInfo("Europe/London")
WAIT = 10  # seconds; only reached when something is broken

probe_calls: list[str] = []
release = threading.Event()
started = threading.Event()


def probe(config_path: str) -> None:
    probe_calls.append(config_path)


def blocking_probe(config_path: str) -> None:
    probe_calls.append(config_path)
    started.set()
    release.wait(WAIT)


@pytest.fixture(autouse=True)
def _reset_probes():
    probe_calls.clear()
    release.clear()
    started.clear()
    yield
    release.set()  # never leave an executor thread waiting


def write_config(tmp_path: Path, cron: str = "30 2 * * *", grace_hours: float = 6) -> Settings:
    path = tmp_path / "config.toml"
    path.write_text(
        f'[schedule]\ncron = "{cron}"\ntimezone = "Europe/London"\n'
        f"misfire_grace_hours = {grace_hours}\n",
        encoding="utf-8",
    )
    return load_settings(path)


def cron_at(when: datetime) -> str:
    """A daily cron firing at `when`'s London wall-clock time, so its next fire is ~a day on."""
    local = when.astimezone(LONDON)
    return f"{local.minute} {local.hour} * * *"


class StoreOnlyScheduler(BaseScheduler):
    """Fills the job store and never runs a job: a scheduler that is down.

    (Not a paused BackgroundScheduler: its shutdown() runs one last round of due jobs.)
    """

    def wakeup(self) -> None:
        pass

    def shutdown(self, wait: bool = True) -> None:
        super().shutdown(wait)


def store_job_due_at(settings: Settings, when: datetime, job=probe) -> None:
    """Leave the store as a scheduler would that went down before `when` fell due."""
    sched = build_scheduler(settings, job=job, scheduler_cls=StoreOnlyScheduler)
    sched.start()
    sched.modify_job("nightly", next_run_time=when)
    sched.shutdown()


def started_scheduler(settings: Settings, job=probe) -> tuple[BackgroundScheduler, queue.Queue]:
    sched = build_scheduler(settings, job=job, scheduler_cls=BackgroundScheduler)
    events: queue.Queue = queue.Queue()
    sched.add_listener(
        events.put,
        EVENT_JOB_EXECUTED | EVENT_JOB_MISSED | EVENT_JOB_ERROR | EVENT_JOB_MAX_INSTANCES,
    )
    sched.start()
    return sched, events


def test_nightly_job_is_on_the_config_cron_in_london_time_one_at_a_time(tmp_path):
    settings = write_config(tmp_path, cron="30 2 * * *", grace_hours=6)
    sched = build_scheduler(settings, scheduler_cls=BackgroundScheduler)
    sched.start(paused=True)
    try:
        [job] = sched.get_jobs()
        assert job.id == "nightly"
        assert job.func_ref == "schedules.nightly:nightly_job"
        assert job.args == (str(settings.path),)
        assert isinstance(job.trigger, CronTrigger)
        fields = {f.name: str(f) for f in job.trigger.fields}
        assert (fields["minute"], fields["hour"], fields["day"]) == ("30", "2", "*")
        assert (fields["month"], fields["day_of_week"]) == ("*", "*")
        assert str(job.trigger.timezone) == "Europe/London"
        assert str(sched.timezone) == "Europe/London"
        assert job.max_instances == 1
        assert job.coalesce is True
        assert job.misfire_grace_time == 6 * 3600
        local = job.next_run_time.astimezone(LONDON)
        assert (local.hour, local.minute) == (2, 30)
    finally:
        sched.shutdown()
    assert schedule_store_path(settings) == tmp_path / "data" / "schedule.sqlite"
    assert schedule_store_path(settings).exists()


def test_a_run_missed_two_hours_ago_runs_once_when_the_scheduler_restarts(tmp_path):
    missed = datetime.now(LONDON).replace(second=0, microsecond=0) - timedelta(hours=2)
    settings = write_config(tmp_path, cron=cron_at(missed), grace_hours=6)
    store_job_due_at(settings, missed)
    assert probe_calls == []

    sched, events = started_scheduler(settings)
    try:
        event = events.get(timeout=WAIT)
        assert event.code == EVENT_JOB_EXECUTED
        assert event.scheduled_run_time == missed
        # Exactly once: the next run is the next cron time, about a day away.
        next_run = sched.get_job("nightly").next_run_time
        assert next_run - datetime.now(LONDON) > timedelta(hours=12)
    finally:
        sched.shutdown()
    assert probe_calls == [str(settings.path)]
    assert events.empty()


def test_a_run_missed_by_more_than_the_grace_is_skipped(tmp_path):
    missed = datetime.now(LONDON).replace(second=0, microsecond=0) - timedelta(hours=10)
    settings = write_config(tmp_path, cron=cron_at(missed), grace_hours=6)
    store_job_due_at(settings, missed)

    sched, events = started_scheduler(settings)
    try:
        event = events.get(timeout=WAIT)
        assert event.code == EVENT_JOB_MISSED
        assert sched.get_job("nightly").next_run_time > datetime.now(LONDON)
    finally:
        sched.shutdown()
    assert probe_calls == []


def test_restart_with_a_changed_cron_uses_it_but_still_runs_the_owed_run(tmp_path):
    missed = datetime.now(LONDON).replace(second=0, microsecond=0) - timedelta(hours=2)
    store_job_due_at(write_config(tmp_path, cron=cron_at(missed)), missed)

    settings = write_config(tmp_path, cron="15 4 * * 1")
    sched = build_scheduler(settings, job=probe, scheduler_cls=StoreOnlyScheduler)
    sched.start()
    try:
        job = sched.get_job("nightly")
        assert job.next_run_time == missed
        fields = {f.name: str(f) for f in job.trigger.fields}
        assert (fields["minute"], fields["hour"], fields["day_of_week"]) == ("15", "4", "1")
    finally:
        sched.shutdown()


def test_a_second_run_while_one_is_in_progress_is_skipped(tmp_path):
    settings = write_config(tmp_path)
    sched, events = started_scheduler(settings, job=blocking_probe)
    try:
        sched.modify_job("nightly", next_run_time=datetime.now(LONDON))
        assert started.wait(WAIT)
        sched.modify_job("nightly", next_run_time=datetime.now(LONDON))
        assert events.get(timeout=WAIT).code == EVENT_JOB_MAX_INSTANCES
        release.set()
        assert events.get(timeout=WAIT).code == EVENT_JOB_EXECUTED
    finally:
        release.set()
        sched.shutdown()
    assert len(probe_calls) == 1


@pytest.fixture
def fake_stages(monkeypatch):
    """Stand-ins for crawler.run and indexer.build, recording the order of calls."""
    calls: list[str] = []

    class Result:
        ok = True

        def line(self) -> str:
            return "fine"

    def run_crawl(settings, sources=None):  # the real entry point's signature
        calls.append(f"crawl {len(settings.sources)}")
        if fake.crawl_raises:
            raise RuntimeError("network down")
        result = Result()
        result.ok = fake.crawl_ok
        return result

    def build_index(settings, **options):  # the real one also takes full=, wait=
        calls.append("index")
        return Result()

    fake = types.SimpleNamespace(calls=calls, crawl_raises=False, crawl_ok=True)
    monkeypatch.setitem(sys.modules, "crawler.run", types.SimpleNamespace(run_crawl=run_crawl))
    monkeypatch.setitem(
        sys.modules, "indexer.build", types.SimpleNamespace(build_index=build_index)
    )
    return fake


def test_nightly_job_rereads_the_config_then_crawls_then_indexes(tmp_path, fake_stages):
    path = tmp_path / "config.toml"
    path.write_text('[[sources]]\nname = "a"\nurl = "https://a.example/"\n', encoding="utf-8")
    assert nightly_job(str(path)) is True
    assert fake_stages.calls == ["crawl 1", "index"]


def test_nightly_job_does_not_index_when_the_crawl_raises(tmp_path, fake_stages, caplog):
    path = tmp_path / "config.toml"
    path.write_text("", encoding="utf-8")
    fake_stages.crawl_raises = True
    assert nightly_job(str(path)) is False
    assert fake_stages.calls == ["crawl 0"]
    assert "run failed: crawl failed" in caplog.text


def test_a_run_whose_crawl_reported_failures_indexes_what_it_has_and_is_failed(
        tmp_path, fake_stages, caplog):
    path = tmp_path / "config.toml"
    path.write_text("", encoding="utf-8")
    fake_stages.crawl_ok = False
    assert nightly_job(str(path)) is False
    assert fake_stages.calls == ["crawl 0", "index"]
    assert "nightly: run failed: the crawl reported failures" in caplog.text
    assert "run succeeded" not in caplog.text


def test_schedule_once_exits_1_when_every_source_failed(tmp_path):
    import socket
    import subprocess

    with socket.socket() as closed:  # a loopback port nothing listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    config = tmp_path / "config.toml"
    config.write_text(
        "[crawl]\nallow_private_networks = true\nretry_times = 0\ndownload_delay = 0\n"
        "[storage]\nstore_path = 'hub.sqlite'\nindex_dir = 'index'\n"
        f"[[sources]]\nname = 'hub'\nurl = 'http://127.0.0.1:{port}/hub'\n")
    done = subprocess.run([sys.executable, "-m", "hubsearch.cli", "schedule", "--once",
                           "--config", str(config)], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 1, done.stderr
    assert "nightly: run failed" in done.stderr
    assert "executed successfully" not in done.stderr and "Traceback" not in done.stderr
