"""The pipeline state machine: events in, state out (no I/O)."""
from __future__ import annotations

import pytest

from bot.core import pipeline as p

SPECS = (p.StageSpec("patch-apply", "patch-apply", 90), p.StageSpec("kselftest-go", "kselftest", 300),
         p.StageSpec("boot-to-initrd", "boot-to-initrd", 180))
T0 = 1_700_000_000.0


def job(run, name, status, conclusion=None, started=None, completed=None, **kw):
    return p.apply_job(run, SPECS, job_name=name, status=status, conclusion=conclusion,
                       started_at=started, completed_at=completed, **kw)


def statuses(run):
    return [s.status for s in run.stages]


def fresh():
    return p.new_run("a" * 40, SPECS, T0)


def test_new_run_has_every_stage_pending_in_order():
    run = fresh()
    assert [s.name for s in run.stages] == ["patch-apply", "kselftest-go", "boot-to-initrd"]
    assert statuses(run) == ["pending"] * 3 and run.status == p.DISPATCHED
    assert p.check_status(run) == ("queued", None)


@pytest.mark.parametrize("name,expected", [
    ("patch-apply", "patch-apply"), ("kselftest", "kselftest-go"), ("kselftest (x86_64)", "kselftest-go"),
    ("kselftest-extra", None), ("lint", None),
])
def test_stage_for_job(name, expected):
    assert p.stage_for_job(SPECS, name) == expected


def test_full_progression_to_success():
    run = job(fresh(), "patch-apply", "queued")
    assert statuses(run)[0] == "queued" and run.status == p.RUNNING
    run = job(run, "patch-apply", "in_progress", started=T0 + 5, url="https://x/job/1")
    run = job(run, "patch-apply", "completed", "success", started=T0 + 5, completed=T0 + 47)
    assert run.stages[0].duration == 42 and run.stages[0].url == "https://x/job/1"
    run = job(run, "kselftest (x86_64)", "in_progress", started=T0 + 50)
    assert p.check_title(run) == "kselftest-go running"
    run = job(run, "kselftest (x86_64)", "completed", "success", started=T0 + 50, completed=T0 + 200)
    run = job(run, "boot-to-initrd", "completed", "success", started=T0 + 201, completed=T0 + 300)
    assert statuses(run) == ["success"] * 3
    assert (run.status, run.conclusion) == (p.COMPLETED, p.SUCCESS)
    assert p.check_status(run) == ("completed", "success")
    assert p.check_title(run) == "All stages passed"


def test_first_failure_fails_the_run_and_skips_the_rest():
    run = job(fresh(), "patch-apply", "completed", "success", started=T0, completed=T0 + 10)
    run = job(run, "kselftest", "completed", "failure", started=T0 + 11, completed=T0 + 70)
    assert statuses(run) == ["success", "failure", "skipped"]
    assert p.check_status(run) == ("completed", "failure")
    assert p.check_title(run) == "kselftest-go failed"
    # A later event for a skipped stage changes nothing.
    assert job(run, "boot-to-initrd", "completed", "success", started=T0, completed=T0 + 1) == run


def test_events_never_regress_a_stage():
    run = job(fresh(), "patch-apply", "completed", "success", started=T0, completed=T0 + 10)
    assert job(run, "patch-apply", "in_progress", started=T0) == run
    run2 = job(fresh(), "patch-apply", "in_progress", started=T0)
    assert job(run2, "patch-apply", "queued") == run2


def test_job_conclusions_map_to_stage_results():
    assert p.job_status("completed", "cancelled") == "cancelled"
    assert p.job_status("completed", "timed_out") == "timed_out"
    assert p.job_status("completed", "action_required") == "failure"
    assert p.job_status("waiting", None) == "queued"


def test_non_stage_jobs_are_ignored():
    run = fresh()
    assert job(run, "lint", "completed", "failure") == run


def test_workflow_run_completed_settles_unreported_stages():
    run = job(fresh(), "patch-apply", "completed", "success", started=T0, completed=T0 + 10)
    done = p.apply_workflow_run(run, status="completed", conclusion="failure", run_id=7, now=T0 + 20)
    assert statuses(done) == ["success", "failure", "skipped"] and done.run_id == 7
    cancelled = p.apply_workflow_run(run, status="completed", conclusion="cancelled", run_id=7, now=T0 + 20)
    assert statuses(cancelled) == ["success", "cancelled", "skipped"]
    assert p.check_status(cancelled) == ("completed", "cancelled")


def test_workflow_run_requested_marks_running_and_links_the_run():
    run = p.apply_workflow_run(fresh(), status="requested", conclusion=None, run_id=42, now=T0)
    assert run.status == p.RUNNING and run.run_id == 42
    assert p.check_status(run) == ("in_progress", None)


@pytest.mark.parametrize("elapsed,expected", [(89, "in_progress"), (91, "timed_out")])
def test_running_stage_times_out_after_its_timeout(elapsed, expected):
    run = job(fresh(), "patch-apply", "in_progress", started=T0 + 10)
    swept = p.sweep(run, SPECS, T0 + 10 + elapsed)
    assert swept.stages[0].status == expected
    if expected == "timed_out":
        assert statuses(swept) == ["timed_out", "skipped", "skipped"]
        assert p.check_status(swept) == ("completed", "timed_out")
        assert p.check_title(swept) == "patch-apply timed out"


def test_second_stage_timeout_is_counted_from_its_own_start():
    run = job(fresh(), "patch-apply", "completed", "success", started=T0, completed=T0 + 80)
    run = job(run, "kselftest", "in_progress", started=T0 + 100)
    assert p.sweep(run, SPECS, T0 + 399) == run
    assert p.deadline(run, SPECS) == T0 + 400
    assert statuses(p.sweep(run, SPECS, T0 + 401)) == ["success", "timed_out", "skipped"]


def test_never_started_pipeline_times_out_after_grace():
    run = fresh()
    assert p.sweep(run, SPECS, T0 + 90 + 599, queue_grace=600) == run
    assert p.sweep(run, SPECS, T0 + 90 + 601, queue_grace=600).stages[0].status == "timed_out"


def test_finished_runs_are_left_alone_by_sweep_and_supersede():
    run = job(fresh(), "patch-apply", "completed", "failure", started=T0, completed=T0 + 5)
    assert p.sweep(run, SPECS, T0 + 10_000) == run
    assert p.supersede(run, "b" * 40, T0 + 1) == run
    assert p.deadline(run, SPECS) is None


def test_supersede_cancels_a_live_run():
    run = job(fresh(), "patch-apply", "in_progress", started=T0)
    gone = p.supersede(run, "b" * 40, T0 + 30)
    assert statuses(gone) == ["cancelled", "skipped", "skipped"]
    assert p.check_status(gone) == ("completed", "cancelled")
    assert p.check_title(gone) == "Superseded by bbbbbbb"
    assert job(gone, "patch-apply", "completed", "success", started=T0, completed=T0 + 40) == gone


@pytest.mark.parametrize("seconds,text", [(None, "–"), (0, "0s"), (42, "42s"), (90, "1m30s"),
                                          (300, "5m"), (3725, "1h02m")])
def test_format_duration(seconds, text):
    assert p.format_duration(seconds) == text


def test_summary_table_shows_start_end_result_duration_and_timeout():
    run = job(fresh(), "patch-apply", "completed", "success", started=T0, completed=T0 + 42,
              url="https://github.com/o/r/actions/runs/1/job/2")
    run = job(run, "kselftest", "in_progress", started=T0 + 50)
    table = p.summary_table(run, SPECS).splitlines()
    assert table[0].startswith("| Stage | Result | Started (UTC) | Finished (UTC) | Duration | Timeout |")
    assert table[2] == ("| [patch-apply](https://github.com/o/r/actions/runs/1/job/2) | ✅ passed | "
                        "22:13:20 | 22:14:02 | 42s | 1m30s |")
    assert table[3] == "| kselftest-go | ⏳ running | 22:14:10 | – | – | 5m |"
    assert table[4] == "| boot-to-initrd | ⏸ pending | – | – | – | 3m |"


def test_one_line_for_the_pr_card():
    run = job(fresh(), "patch-apply", "completed", "success", started=T0, completed=T0 + 42)
    assert p.one_line(run) == "kselftest-go pending · patch-apply ✅ 42s → kselftest-go ⏸ → boot-to-initrd ⏸"
