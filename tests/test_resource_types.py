"""Resource types have one home (aifinops.resource_types): every finding of a demo scan, group members included,
is typed with one of its constants, and the checks agree on the type of one kind of resource (a training job is
'training-job' whether previous-gen-accelerators or the training checks price it). Savings tracking tells a
training job by its ARN as well as its type, so history recorded with another spelling stays not measurable."""

from __future__ import annotations

import json
from collections import defaultdict

import duckdb
import pytest

from aifinops import resource_types as rt
from aifinops.tracking import finding_outcomes
from clirun import run_cli

PREVIOUS = "previous-gen-accelerators"
TRAINING_CHECKS = ("sagemaker-training-on-demand", "sagemaker-spot-training-no-checkpoint", "sagemaker-gpu-rightsizing")
_PUBLIC = {name: value for name, value in vars(rt).items()
           if name.isupper() and not name.startswith("_") and isinstance(value, str)}
PREFIXES = tuple(v for name, v in _PUBLIC.items() if name.endswith("_PREFIX"))
ALLOWED = {v for name, v in _PUBLIC.items() if not name.endswith("_PREFIX")}


def _known(resource_type: str) -> bool:
    return resource_type in ALLOWED or any(resource_type.startswith(p) and resource_type != p for p in PREFIXES)


@pytest.fixture(scope="module")
def scanned(demo_store_copy):
    """A demo copy scanned once through the CLI: the scan document and the history rows it recorded."""
    store = demo_store_copy("resource-types")
    done = run_cli("scan", "--store", str(store.path), "--format", "json")
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    con = duckdb.connect(str(store.path))
    rows = con.execute(
        "SELECT check_id, resource_id, resource_type FROM finding_history WHERE run_id = "
        "(SELECT run_id FROM scan_runs ORDER BY run_at DESC, run_id DESC LIMIT 1) ORDER BY finding_id"
    ).fetchall()
    yield {"doc": doc, "history": rows, "con": con}
    con.close()


def test_every_finding_and_group_member_has_a_type_from_the_one_module(scanned):
    doc_types = {(f["check"], f["resource_type"]) for f in scanned["doc"]["findings"]}
    history_types = {(check, rtype) for check, _, rtype in scanned["history"]}
    assert len(scanned["history"]) > len(scanned["doc"]["findings"])  # members of groups are in the history
    unknown = sorted(t for t in doc_types | history_types if not _known(t[1]))
    assert unknown == [], f"resource types not in aifinops.resource_types: {unknown}"


def _arn_kind(resource_id: str) -> tuple[str, str] | None:
    """('sagemaker', 'training-job') from an ARN, parsed here independently of resource_types.from_arn."""
    if not resource_id.startswith("arn:"):
        return None
    _, _, service, _, _, resource = resource_id.split(":", 5)
    return service, resource.split("/")[0]


def test_checks_agree_on_the_type_of_each_kind_of_resource(scanned):
    by_kind: dict[tuple[str, str], set[str]] = defaultdict(set)
    checks_by_kind: dict[tuple[str, str], set[str]] = defaultdict(set)
    for check, resource_id, rtype in scanned["history"]:
        kind = _arn_kind(resource_id)
        if kind:
            by_kind[kind].add(rtype)
            checks_by_kind[kind].add(check)
    assert {k: v for k, v in by_kind.items() if len(v) > 1} == {}
    # a training job priced by previous-gen and by a training check: both name it 'training-job'
    jobs = ("sagemaker", "training-job")
    assert PREVIOUS in checks_by_kind[jobs] and checks_by_kind[jobs] & set(TRAINING_CHECKS)
    assert by_kind[jobs] == {"training-job"}
    # the notebook instance and the Studio app previous-gen prices: the inventory's names for them
    assert by_kind[("sagemaker", "notebook-instance")] == {"sagemaker-notebook"}
    assert by_kind[("sagemaker", "app")] == {"sagemaker-studio-app"}


@pytest.mark.parametrize(
    ("arn", "expected"),
    [
        ("arn:aws:sagemaker:us-east-1:111122223333:training-job/bert-2024-11-01", "training-job"),
        ("arn:aws:sagemaker:us-east-1:111122223333:endpoint/chat", "sagemaker-endpoint"),
        ("arn:aws:sagemaker:us-east-1:111122223333:notebook-instance/research", "sagemaker-notebook"),
        ("arn:aws:sagemaker:us-east-1:111122223333:app/d-abc/alice/jupyterlab/default", "sagemaker-studio-app"),
        ("arn:aws:sagemaker:us-east-1:111122223333:space/d-abc/team-space", "sagemaker-studio-space"),
        ("arn:aws:sagemaker:us-east-1:111122223333:processing-job/p1", "sagemaker-processing-job"),
        ("arn:aws:sagemaker:us-east-1:111122223333:transform-job/t1", "sagemaker-transform-job"),
        ("arn:aws:bedrock:us-east-1:111122223333:provisioned-model/abc123", "bedrock-provisioned-throughput"),
        ("arn:aws:comprehend:us-east-1:111122223333:document-classifier-endpoint/c1", "comprehend-endpoint"),
        ("arn:aws:ec2:us-east-1:111122223333:instance/i-0123456789abcdef0", "ec2-instance"),
        ("arn:aws:s3:::training-data", "s3-bucket"),
        ("arn:aws:s3:::training-data/key", None),
        ("arn:aws:sagemaker:us-east-1:111122223333:cluster/hp1", None),  # a kind the module does not name
        ("111122223333/us-east-1/Train/ml.p3.2xlarge", None),
        ("arn:aws:sagemaker", None),
    ],
)
def test_from_arn(arn, expected):
    assert rt.from_arn(arn) == expected


def test_a_training_job_recorded_under_another_spelling_stays_not_measurable(scanned):
    con = scanned["con"]

    def statuses() -> set[str]:
        return {o["status"] for o in finding_outcomes(con)
                if o["check"] == PREVIOUS and ":training-job/" in o["resource_id"]}

    assert statuses() == {"not-measurable"}
    # history written before previous-gen typed jobs 'training-job' holds the inventory's spelling
    con.execute("UPDATE finding_history SET resource_type = 'sagemaker-training-job' "
                "WHERE check_id = ? AND resource_id LIKE '%:training-job/%'", [PREVIOUS])
    assert statuses() == {"not-measurable"}
