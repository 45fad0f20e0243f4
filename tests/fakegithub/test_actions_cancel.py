"""Cancelling workflow runs as GitHub does: a cancel (202) stops the jobs whose condition does not
hold on cancellation and leaves the others (`if: always()`, `cancelled()`) running, so the run
goes on "cancelling"; a force-cancel stops them all; a completed run is answered 409, an unknown
one 404."""

from __future__ import annotations

from tests.fakegithub.test_fake import Client, gh  # noqa: F401  (fixture)

CANCEL = "/repos/o/r/actions/runs/{}/cancel"
FORCE = "/repos/o/r/actions/runs/{}/force-cancel"


def _job(job_id: int, name: str, *, condition: str | None = None) -> dict:
    job = {"id": job_id, "name": name, "status": "in_progress", "conclusion": None, "completed_at": None}
    return job if condition is None else {**job, "if": condition}


async def test_a_cancel_stops_the_run_unless_a_job_runs_on_cancellation(gh: Client) -> None:
    fake = gh.fake
    plain = fake.add_workflow_run("o/r", "ci.yml", status="in_progress")
    plain.jobs = [_job(1, "build")]
    status, body, _ = await gh.request("POST", CANCEL.format(plain.id))
    assert (status, body) == (202, {})
    assert (plain.status, plain.conclusion) == ("completed", "cancelled")
    assert (plain.jobs[0]["status"], plain.jobs[0]["conclusion"]) == ("completed", "cancelled")

    stubborn = fake.add_workflow_run("o/r", "ci.yml", status="in_progress")
    stubborn.jobs = [_job(2, "build"), _job(3, "upload", condition="${{ always() }}")]
    status, _, _ = await gh.request("POST", CANCEL.format(stubborn.id))
    assert status == 202
    assert (stubborn.status, stubborn.conclusion) == ("in_progress", None)  # cancelling
    assert [(j["name"], j["status"], j["conclusion"]) for j in stubborn.jobs] == [
        ("build", "completed", "cancelled"), ("upload", "in_progress", None)]
    # Asked again, it is accepted again: the run has not completed.
    assert (await gh.request("POST", CANCEL.format(stubborn.id)))[0] == 202
    _, jobs, _ = await gh.request("GET", f"/repos/o/r/actions/runs/{stubborn.id}/jobs")
    assert [j["name"] for j in jobs["jobs"]] == ["build", "upload"]
    assert all("if" not in j for j in jobs["jobs"])  # a job's condition is not in its REST object

    status, body, _ = await gh.request("POST", FORCE.format(stubborn.id))
    assert (status, body) == (202, {})
    assert (stubborn.status, stubborn.conclusion) == ("completed", "cancelled")
    assert [(j["status"], j["conclusion"]) for j in stubborn.jobs] == [("completed", "cancelled")] * 2
    _, run, _ = await gh.request("GET", f"/repos/o/r/actions/runs/{stubborn.id}")
    assert (run["status"], run["conclusion"]) == ("completed", "cancelled")


async def test_a_completed_run_is_answered_409_and_an_unknown_one_404(gh: Client) -> None:
    fake = gh.fake
    done = fake.add_workflow_run("o/r", "ci.yml", status="completed", conclusion="success")
    unknown = max(fake.state.workflow_runs) + 1000
    for path in (CANCEL, FORCE):
        assert (await gh.request("POST", path.format(done.id)))[0] == 409
        assert (await gh.request("POST", path.format(unknown)))[0] == 404
    assert (done.status, done.conclusion) == ("completed", "success")
    assert [c.template for c in fake.calls_to("POST", "/repos/{owner}/{repo}/actions/runs/{run_id}/force-cancel")
            ] == ["/repos/{owner}/{repo}/actions/runs/{run_id}/force-cancel"] * 2
