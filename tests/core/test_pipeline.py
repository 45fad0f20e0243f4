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


# --- matrix stages: every leg counts ------------------------------------------------------

def test_a_matrix_stage_runs_while_a_leg_runs_and_fails_when_one_fails():
    run = job(fresh(), "patch-apply", "completed", "success", started=T0, completed=T0 + 10)
    run = job(run, "kselftest", "completed", "success", started=T0 + 11, completed=T0 + 60)
    run = job(run, "boot-to-initrd (arm64)", "in_progress", started=T0 + 61)
    run = job(run, "boot-to-initrd (x86_64)", "completed", "success", started=T0 + 61, completed=T0 + 90)
    assert statuses(run) == ["success", "success", "in_progress"] and run.status == p.RUNNING
    assert p.check_title(run) == "boot-to-initrd running"
    run = job(run, "boot-to-initrd (arm64)", "completed", "failure", started=T0 + 61, completed=T0 + 100)
    assert statuses(run) == ["success", "success", "failure"]
    assert (run.status, run.conclusion) == (p.COMPLETED, p.FAILURE)
    assert p.check_title(run) == "boot-to-initrd failed"
    assert "❌ failed (1/2 legs passed)" in p.summary_table(run, SPECS)


def test_a_matrix_stage_passes_only_when_every_leg_passed():
    run = job(fresh(), "patch-apply (a)", "queued")
    run = job(run, "patch-apply (b)", "queued")
    run = job(run, "patch-apply (a)", "completed", "success", started=T0, completed=T0 + 10)
    assert statuses(run)[0] == "in_progress"
    run = job(run, "patch-apply (b)", "completed", "success", started=T0 + 2, completed=T0 + 20)
    assert statuses(run)[0] == "success" and run.stages[0].duration == 20


def test_a_failed_leg_reported_after_the_run_passed_fails_it():
    """A leg GitHub told us about late (or only in the job list at the run's completion)."""
    run = job(fresh(), "patch-apply", "completed", "success", started=T0, completed=T0 + 10)
    run = job(run, "kselftest", "completed", "success", started=T0 + 11, completed=T0 + 60)
    run = job(run, "boot-to-initrd (x86_64)", "completed", "success", started=T0 + 61, completed=T0 + 90)
    assert run.conclusion == p.SUCCESS
    run = job(run, "boot-to-initrd (arm64)", "completed", "failure", started=T0 + 61, completed=T0 + 100)
    assert (run.status, run.conclusion, statuses(run)[2]) == (p.COMPLETED, p.FAILURE, "failure")


# --- events out of order ------------------------------------------------------------------

def test_facts_arriving_after_the_run_failed_are_recorded_without_undoing_the_failure():
    run = job(fresh(), "patch-apply", "in_progress", started=T0 + 6)
    run = job(run, "kselftest", "completed", "failure", started=T0 + 40, completed=T0 + 80)
    assert (run.status, run.conclusion) == (p.COMPLETED, p.FAILURE)
    assert statuses(run) == ["in_progress", "failure", "skipped"]
    run = job(run, "patch-apply", "completed", "success", started=T0 + 6, completed=T0 + 39)
    assert statuses(run) == ["success", "failure", "skipped"]
    assert (run.status, run.conclusion, p.check_title(run)) == (p.COMPLETED, p.FAILURE, "kselftest-go failed")
    # The run's completion settles nothing more and keeps the verdict.
    done = p.apply_workflow_run(run, status="completed", conclusion="failure", run_id=9, now=T0 + 90)
    assert statuses(done) == statuses(run) and done.conclusion == p.FAILURE


def test_an_earlier_stage_failing_late_takes_the_blame():
    run = job(fresh(), "patch-apply", "in_progress", started=T0)
    run = job(run, "kselftest", "completed", "failure", started=T0 + 40, completed=T0 + 80)
    run = job(run, "patch-apply", "completed", "failure", started=T0, completed=T0 + 39)
    assert p.check_title(run) == "patch-apply failed" and run.conclusion == p.FAILURE


# --- re-runs: a newer run_attempt ---------------------------------------------------------

def test_rerun_of_failed_jobs_reopens_the_failed_stages_and_keeps_the_passed_ones():
    run = job(fresh(), "patch-apply", "completed", "success", started=T0, completed=T0 + 10, attempt=1)
    run = job(run, "kselftest", "completed", "failure", started=T0 + 11, completed=T0 + 60, attempt=1)
    assert run.conclusion == p.FAILURE
    run = p.apply_workflow_run(run, status="queued", conclusion=None, run_id=9, now=T0 + 300, attempt=2)
    assert (run.status, run.conclusion, run.attempt) == (p.RUNNING, None, 2)
    assert statuses(run) == ["success", "pending", "pending"]
    assert p.check_status(run) == ("in_progress", None)
    # A late report of attempt 1 changes nothing any more.
    assert job(run, "boot-to-initrd", "completed", "skipped", completed=T0 + 61, attempt=1) == run
    run = job(run, "kselftest", "completed", "success", started=T0 + 301, completed=T0 + 350, attempt=2)
    run = job(run, "boot-to-initrd", "completed", "success", started=T0 + 351, completed=T0 + 400, attempt=2)
    assert (run.status, run.conclusion) == (p.COMPLETED, p.SUCCESS)


def test_a_job_of_a_newer_attempt_reopens_the_run_before_its_run_event():
    run = job(fresh(), "patch-apply", "completed", "failure", started=T0, completed=T0 + 10)
    run = job(run, "patch-apply", "in_progress", started=T0 + 300, attempt=2, now=T0 + 300)
    assert (run.status, run.attempt, statuses(run)) == (p.RUNNING, 2, ["in_progress", "pending", "pending"])


def test_a_reopened_run_times_out_from_the_attempt_start_not_the_dispatch():
    run = job(fresh(), "patch-apply", "completed", "success", started=T0, completed=T0 + 10)
    run = job(run, "kselftest", "completed", "failure", started=T0 + 11, completed=T0 + 60)
    run = p.apply_workflow_run(run, status="queued", conclusion=None, run_id=9, now=T0 + 5000, attempt=2)
    assert p.sweep(run, SPECS, T0 + 5100) == run
    assert p.deadline(run, SPECS) == T0 + 5000 + 300


def test_a_superseded_run_takes_no_report_of_any_attempt():
    gone = p.supersede(job(fresh(), "patch-apply", "in_progress", started=T0), "b" * 40, T0 + 30)
    assert job(gone, "patch-apply", "completed", "success", started=T0, completed=T0 + 40, attempt=2) == gone
    assert p.apply_workflow_run(gone, status="queued", conclusion=None, run_id=9, now=T0 + 50, attempt=2) == gone


def test_a_pipe_in_a_stage_name_stays_in_its_cell():
    specs = (p.StageSpec("apply|x", "apply", 90),)
    table = p.summary_table(p.new_run("a" * 40, specs, T0), specs)
    assert table.splitlines()[2].startswith("| apply\\|x | ⏸ pending |")
