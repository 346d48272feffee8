"""The nightly flow: ingest → link → findings, all or nothing; then task lists and report.

Run once, here: ``renkou run --inbox DIR`` (Prefect's ephemeral mode). On a schedule:
``renkou serve --inbox DIR`` against a Prefect server (``renkou server``); ephemeral mode
registers a deployment but never schedules its runs.

The rollback point, the run record and the lock are ``linkage.runs.Night``; each stage is one
task (``flows.ingest`` …). The summary of every run, counts only, becomes a markdown artifact.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.runtime import flow_run

from flows.findings import merge_findings
from flows.ingest import load_inbox
from flows.link import link_records
from flows.options import STAGE
from flows.outputs import output_stages
from linkage.errors import RenkouError
from linkage.operators import authorise
from linkage.run_summary import markdown
from linkage.runs import Night

FLOW = "renkou-nightly"
DEPLOYMENT = "nightly"
LOOPBACK = ("127.0.0.1", "localhost", "::1")


@task(name="summary", persist_result=False, cache_policy=STAGE["cache_policy"])
def publish_summary(summary: dict[str, Any]) -> None:
    """The run's summary (counts only) as a markdown artifact in the Prefect UI."""
    try:
        create_markdown_artifact(
            markdown=markdown(summary),
            key="renkou-night",
            description=f"renkou night {summary['run_id']}: {summary['status']}",
        )
    except Exception as err:  # the night is done and recorded; the artifact is a courtesy
        get_run_logger().warning("no summary artifact: %s", type(err).__name__)


@flow(name=FLOW, persist_result=False, log_prints=False)
def nightly(
    inbox: str, home: str = "var", full: bool = False, retrain: bool = False, outputs: bool = True
) -> dict[str, Any]:
    """One night on ``home`` from the files in ``inbox``.

    ``full`` re-standardises and rescores every record; ``retrain`` trains new model versions;
    ``outputs`` writes task lists and the report after the data is committed. The OS account
    the flow runs as must be a registered operator allowed to run nights (``service``).
    """
    authorise(home, "run")  # a deployment started from the UI runs here, not via the CLI
    night = Night(home, inbox=inbox, full=full, retrain=retrain, flow_run_id=flow_run.get_id())
    try:
        with night:
            night.run("ingest", load_inbox, home, inbox, night.run_id, full=full)
            night.run("link", link_records, home, night.run_id, full=full, retrain=retrain)
            night.run("findings", merge_findings, home, night.run_id)
            night.commit()
            for stage, fn in output_stages() if outputs else []:
                night.run(stage, fn, home, night.run_id, optional=True)
    finally:
        if night.status != "pending":
            publish_summary(night.summary())
    if night.output_failures:  # the data is in, but the office must look: fail visibly
        raise night.output_failures[0]
    return night.summary()


def serve(inbox: str, home: str, *, cron: str, timezone: str) -> None:
    """Serve the nightly deployment on ``cron`` (in ``timezone``) until interrupted.

    Needs ``PREFECT_API_URL`` set to a running Prefect server on this machine.
    """
    from prefect.client.orchestration import get_client
    from prefect.deployments.runner import EntrypointType
    from prefect.schedules import Cron
    from prefect.settings import PREFECT_API_URL

    url = PREFECT_API_URL.value()
    if not url or urlsplit(url).hostname not in LOOPBACK:
        raise RenkouError(
            f"renkou serve talks to a Prefect server on this machine only; "
            f"PREFECT_API_URL is {url or 'unset'}. Fix: start one with "
            f"`renkou server` and pass --api-url http://127.0.0.1:4200/api"
        )
    with get_client(sync_client=True) as client:
        failure = client.api_healthcheck()
    if failure is not None:
        raise RenkouError(
            f"no Prefect server answers at {url} ({type(failure).__name__}). "
            f"Fix: start it with `renkou server` (or its systemd unit, see "
            f"docs/operations.md) and try again"
        )
    nightly.serve(
        name=DEPLOYMENT,
        schedules=[Cron(cron, timezone=timezone)],
        parameters={"inbox": inbox, "home": home},
        description="renkou: the county's nightly comparison",
        limit=1,
        entrypoint_type=EntrypointType.MODULE_PATH,
    )
