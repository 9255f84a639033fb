"""The nightly crawl-then-index, run by APScheduler 3.x on the config's cron.

This module owns the schedule: which job runs, when (settings.schedule, read in its time zone),
that two runs never overlap (max_instances=1, and the job waits for both stages), and that a
run missed while the scheduler was down still happens once on restart if it is at most
`misfire_grace_hours` late. The missed run is remembered by a persistent job store
(schedule.sqlite next to the document store). The work itself lives in the stage entry points.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.util import obj_to_ref

from hubsearch.errors import HubsearchError
from hubsearch.settings import Settings, load_settings

log = logging.getLogger(__name__)

JOB_ID = "nightly"
JOB_REF = "schedules.nightly:nightly_job"


def nightly_job(config_path: str) -> bool:
    """Crawl, then index; the config is re-read so sources added since startup are crawled.

    Returns whether the run succeeded, and says so in its last log line: a crawl that
    failed or reported failures, or an index not switched in, is a failed run (APScheduler
    would call any run that did not raise "executed successfully", so that line is not
    logged; `hubsearch schedule --once` turns this into its exit status)."""
    return crawl_then_index(config_path)


def crawl_then_index(config_path: str, sources: list[str] | None = None,
                     label: str = "nightly") -> bool:
    """The nightly run's work, also run now (`hubsearch refresh`, the maintainers' "crawl
    now"): crawl all sources or only `sources`, then index; its lines start with `label`."""
    # Imported here: the stages are heavy (Scrapy, Whoosh) and the scheduler must start
    # (and its tests run) without them.
    from crawler.run import run_crawl
    from hubsearch.backends import open_backend

    settings = load_settings(config_path)
    backend = open_backend(settings)
    try:
        # Both stages take the store's locks (hubsearch/locks.py). A crawl already running
        # (a manual one) refuses this one: crawling again the same night would count each
        # 404 twice. The index build waits instead, so tonight's crawl still gets indexed.
        summary = run_crawl(settings, sources=sources or None)
    except HubsearchError as exc:
        log.error("%s: run failed: crawl failed: %s; index not rebuilt", label, exc)
        return False
    except Exception:
        log.exception("%s: run failed: crawl failed; index not rebuilt", label)
        return False
    log.info("%s: crawl: %s", label, summary.line())
    # A crawl that finished with failures still stored what it fetched; indexing it keeps
    # the index in step with the store (pages that did not change are kept by the crawler).
    if not summary.ok:
        log.warning("%s: crawl reported failures; indexing what was stored", label)
    try:
        result = backend.build(wait=True)
    except HubsearchError as exc:
        # The quality gate and an empty store are expected outcomes: one line, no traceback.
        log.error("%s: run failed: index not switched in: %s", label, exc)
        return False
    except Exception:
        log.exception("%s: run failed: index build failed; the previous index stays", label)
        return False
    log.info("%s: index: %s", label, result.line())
    if not summary.ok:
        log.error("%s: run failed: the crawl reported failures (%s)", label, summary.line())
        return False
    log.info("%s: run succeeded", label)
    return True


def schedule_store_path(settings: Settings) -> Path:
    """The job store file: next to the document store, so it moves with the data."""
    return settings.storage.store_path.parent / "schedule.sqlite"


def build_scheduler(
    settings: Settings,
    *,
    job: Callable[[str], None] | str = nightly_job,
    scheduler_cls: type[BaseScheduler] = BlockingScheduler,
    run_now: bool = False,
) -> BaseScheduler:
    """A scheduler (not started) holding the nightly job, keeping a run that is still owed.

    `job` must be importable by reference (the store pickles the reference, not the code).
    With `run_now`, the job's next run is now; later runs follow the cron as usual.
    """
    tz = ZoneInfo(settings.schedule.timezone)
    trigger = CronTrigger.from_crontab(settings.schedule.cron, timezone=tz)
    store_path = schedule_store_path(settings)
    store_path.parent.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{store_path}"
    scheduler = scheduler_cls(
        timezone=tz,
        jobstores={"default": SQLAlchemyJobStore(url=url)},
        job_defaults={
            # 3.x defaults to a 1 s grace: a run due while we were down would be dropped.
            "misfire_grace_time": int(settings.schedule.misfire_grace_hours * 3600),
            "coalesce": True,  # several missed nights: one catch-up run, not a burst
            "max_instances": 1,
        },
    )
    func_ref = job if isinstance(job, str) else obj_to_ref(job)

    now = datetime.now(tz)
    next_run = now if run_now else _owed_run_time(scheduler, url)
    if next_run is None or next_run > now:
        # Nothing owed: follow the (possibly changed) cron from now on.
        next_run = trigger.get_next_fire_time(None, now)
    # replace_existing alone would recompute next_run_time from the trigger and forget a run
    # that fell due while the scheduler was down; passing the owed time explicitly keeps it,
    # while the trigger, arguments and grace still come from the current config.
    scheduler.add_job(
        func_ref,
        trigger=trigger,
        args=[str(settings.path)],
        id=JOB_ID,
        name="nightly crawl and index",
        replace_existing=True,
        next_run_time=next_run,
    )
    return scheduler


def _owed_run_time(scheduler: BaseScheduler, url: str) -> datetime | None:
    """The stored job's next run time, read before the scheduler replaces the job."""
    peek = SQLAlchemyJobStore(url=url)
    try:
        peek.start(scheduler, "default")
        stored = peek.lookup_job(JOB_ID)
    except Exception as exc:  # an unreadable job (e.g. its function moved): start afresh
        log.warning("schedule: stored job not readable (%s); using the cron from now", exc)
        return None
    finally:
        peek.shutdown()
    return stored.next_run_time if stored is not None else None


def run_scheduler(settings: Settings, run_now: bool = False) -> None:
    """Run the nightly schedule in the foreground until Ctrl-C."""
    if not logging.getLogger().handlers:
        # A foreground service: its log lines are its only output.
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    # The job says how each run went; APScheduler's own line calls every run that did not
    # raise "executed successfully", failed crawls included.
    logging.getLogger("apscheduler.executors.default").setLevel(logging.WARNING)
    scheduler = build_scheduler(settings, run_now=run_now)
    job = scheduler.get_jobs()[0]
    tz = ZoneInfo(settings.schedule.timezone)
    on_cron = job.trigger.get_next_fire_time(None, datetime.now(tz))
    log.info(
        "schedule: %r in %s; %snext run %s",
        settings.schedule.cron,
        settings.schedule.timezone,
        "running now, then " if run_now else "",
        (on_cron if run_now else job.next_run_time).isoformat(),
    )
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        log.info("schedule: stopping")
    finally:
        if scheduler.running:
            # wait=False: a Ctrl-C should not hang behind a crawl that is mid-run.
            scheduler.shutdown(wait=False)
