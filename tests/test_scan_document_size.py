"""The scan document stays small on accounts with many resources (issue 15): findings of one check, account and
resource type become one group (aifinops.finding_groups), while every dollar, every member and the
deduplicated total stay as they were. Expectations come from hand arithmetic and from a second SQL over the
store's finding_history (every finding in full), never from the grouping code."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from aifinops.checks.base import deduplicate
from aifinops.finding_groups import ASSUMPTION_LIMIT, MEMBER_LIMIT, MIN_MEMBERS, group_findings, make_group
from aifinops.model import Action, Finding, ScanDocument
from clirun import run_cli
from notebook_fleet import ACCOUNTS, NOTEBOOK, RATE, scan_fleet
from notebook_fleet import notebook_arn as _arn
from test_json_answers_rounded import AS_PRINTED_USD

SCHEMA_FILE = Path(__file__).parent.parent / "docs" / "schema" / "scan.schema.json"
# the notebook check's defaults: 730-hour month, needed 50 h of the week's 168
NOTEBOOK_MONTHLY_COST = RATE * 730
NOTEBOOK_SAVING = NOTEBOOK_MONTHLY_COST * (168 - 50) / 168


@pytest.fixture(scope="module")
def many(tmp_path_factory) -> dict:
    """A CUR 2.0 file with 40 always-on notebooks in three accounts, scanned once into a fresh store."""
    store, text = scan_fleet(tmp_path_factory.mktemp("many"))
    return {"store": store, "doc": json.loads(text), "raw": text}


def _history(store: Path) -> list[tuple]:
    """(finding id, check, account, savings) of the latest recorded scan, read with SQL of this test."""
    import duckdb

    con = duckdb.connect(str(store), read_only=True)
    try:
        return con.execute(
            "SELECT finding_id, check_id, json_extract_string(finding, '$.account_id'), monthly_savings_usd "
            "FROM finding_history WHERE run_id = (SELECT run_id FROM scan_runs ORDER BY run_at DESC LIMIT 1)"
        ).fetchall()
    finally:
        con.close()


def test_many_notebooks_of_one_account_are_one_group_with_the_same_dollars(many):
    doc = many["doc"]
    jsonschema.validate(doc, json.loads(SCHEMA_FILE.read_text()))
    assert ScanDocument.model_validate(doc).to_json_dict() == doc
    notebook = {f["account_id"]: f for f in doc["findings"] if f["check"] == NOTEBOOK and f["group"]}
    singles = [f for f in doc["findings"] if f["check"] == NOTEBOOK and not f["group"]]
    assert set(notebook) == {"111111111111", "222222222222"}
    assert {f["account_id"] for f in singles} == {"333333333333"} and len(singles) == 3
    for account, group in notebook.items():
        n = ACCOUNTS[account]
        g = group["group"]
        assert g["members_count"] == n
        assert group["monthly_savings_usd"] == pytest.approx(n * NOTEBOOK_SAVING, **AS_PRINTED_USD)
        assert group["monthly_cost_usd"] == pytest.approx(n * NOTEBOOK_MONTHLY_COST, **AS_PRINTED_USD)
        listed = g["members"]
        rest = g["rest"] or {"count": 0, "monthly_savings_usd": 0.0, "monthly_cost_usd": 0.0}
        assert len(listed) == min(n, 20) and rest["count"] == n - len(listed)
        assert sum(m["monthly_savings_usd"] for m in listed) + rest["monthly_savings_usd"] == pytest.approx(
            group["monthly_savings_usd"], abs=(len(listed) + 2) * AS_PRINTED_USD["abs"])  # each at 6 decimals
        assert all(m["monthly_savings_usd"] == pytest.approx(NOTEBOOK_SAVING, **AS_PRINTED_USD) for m in listed)
        assert {m["resource_id"] for m in listed} <= {_arn(account, k) for k in range(n)}
        assert (g["more"] is not None) == (rest["count"] > 0)
        # shared text once: the members' common evidence and assumptions, not one copy per member
        assert group["evidence"]["instance_type"] == "ml.t3.medium"
        assert len(group["assumptions"]) == len(set(group["assumptions"])) >= 1
        assert group["actions"][0]["kind"] == "note"


def test_savings_per_check_and_in_total_are_those_of_every_finding(many):
    doc, history = many["doc"], _history(many["store"])
    assert len(history) == sum(f["group"]["members_count"] if f["group"] else 1 for f in doc["findings"])
    expected: dict[str, float] = {}
    for _, check, _, saving in history:
        expected[check] = expected.get(check, 0.0) + saving
    found: dict[str, float] = {}
    for f in doc["findings"]:
        found[f["check"]] = found.get(f["check"], 0.0) + f["monthly_savings_usd"]
    assert set(found) == set(expected)
    for check, dollars in expected.items():
        assert round(found[check], 2) == round(dollars, 2), check
    assert round(sum(found.values()), 2) == round(doc["savings"]["gross_monthly_usd"], 2)
    # every group member's id is a finding the history holds
    ids = {row[0] for row in history}
    assert {m["id"] for f in doc["findings"] if f["group"] for m in f["group"]["members"]} <= ids
    # the notebooks by hand: 40 of them
    assert expected[NOTEBOOK] == pytest.approx(sum(ACCOUNTS.values()) * NOTEBOOK_SAVING, rel=1e-9)


def test_the_action_plan_over_the_groups_totals_the_deduplicated_savings(many):
    from aifinops.actions import action_plan
    from aifinops.store import Store

    doc = many["doc"]
    with Store(many["store"]).connect(read_only=True) as con:
        plan = action_plan(con, doc["findings"])
    assert plan["total_monthly_usd"] == round(doc["savings"]["total_monthly_usd"], 2)
    assert plan["gross_monthly_usd"] == round(doc["savings"]["gross_monthly_usd"], 2)


def test_a_member_the_group_does_not_list_is_shown_in_full(many):
    doc = many["doc"]
    group = next(f for f in doc["findings"] if f["check"] == NOTEBOOK and f["account_id"] == "111111111111")
    listed = {m["id"] for m in group["group"]["members"]}
    unlisted = sorted(fid for fid, check, account, _ in _history(many["store"])
                      if check == NOTEBOOK and account == "111111111111" and fid not in listed)
    assert len(unlisted) == 25 - 20
    shown = run_cli("findings", "show", unlisted[0], "-f", "json", "--store", str(many["store"]))
    assert shown.returncode == 0, shown.stderr
    finding = json.loads(shown.stdout)
    assert finding["check"] == NOTEBOOK and finding["resource_id"].startswith("arn:aws:sagemaker:us-east-1:1111")
    assert finding["monthly_savings_usd"] == pytest.approx(NOTEBOOK_SAVING, **AS_PRINTED_USD)
    assert finding["assumptions"] and finding["actions"]


def test_a_scan_not_kept_in_the_history_lists_every_member(many):
    result = run_cli("scan", "--check", NOTEBOOK, "--store", str(many["store"]), "-f", "json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    groups = [f for f in doc["findings"] if f["group"]]
    assert {f["account_id"]: f["group"]["members_count"] for f in groups} == {"111111111111": 25,
                                                                             "222222222222": 12}
    for f in groups:
        assert len(f["group"]["members"]) == f["group"]["members_count"] and f["group"]["rest"] is None


def test_a_finding_the_user_decided_on_stays_on_its_own(many, tmp_path):
    import shutil

    store = tmp_path / "store.duckdb"
    shutil.copy(many["store"], store)
    group = next(f for f in many["doc"]["findings"] if f["check"] == NOTEBOOK and f["account_id"] == "222222222222")
    chosen = group["group"]["members"][-1]["id"]
    dismissed = run_cli("findings", "dismiss", chosen, "--reason", "kept on for a demo", "--store", str(store))
    assert dismissed.returncode == 0, dismissed.stderr
    result = run_cli("scan", "--store", str(store), "-f", "json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    again = next(f for f in doc["findings"] if f["check"] == NOTEBOOK and f["account_id"] == "222222222222"
                 and f["group"])
    assert again["group"]["members_count"] == 11 and chosen not in {m["id"] for m in again["group"]["members"]}
    assert [f["id"] for f in doc["findings"] if f["id"] == chosen] == [chosen]


# ---------------------------------------------------------------- the grouping rules on hand-made findings


def _finding(check: str, resource: str, saving: float, cost: float = 100.0, account: str = "1") -> Finding:
    return Finding(check=check, title=f"{check} on {resource}", resource_id=resource, resource_type="thing",
                   account_id=account, monthly_cost_usd=cost, monthly_savings_usd=saving, confidence="medium",
                   evidence={"window_days": 14, "size": resource}, assumptions=["shared", f"about {resource}"],
                   actions=[Action(kind="cli", text=f"aws stop {resource}")])


def test_a_resource_two_checks_save_on_stays_out_of_groups_so_the_total_holds():
    n = MIN_MEMBERS + 2
    stop = [_finding("stop", f"r{k}", 10.0 + k) for k in range(n)]
    resize = [_finding("resize", "r0", 30.0)]  # r0 saved twice: counted once, at $30
    unknown = [_finding("look", f"r{k}", 0.0) for k in range(n)]  # zero savings may join a group anyway
    findings = stop + resize + unknown
    grouped = group_findings(findings)
    by_check: dict[str, list[Finding]] = {}
    for f in grouped:
        by_check.setdefault(f.check, []).append(f)
    assert [f.group.members_count for f in by_check["stop"] if f.group] == [n - 1]  # type: ignore[union-attr]
    assert [f.resource_id for f in by_check["stop"] if f.group is None] == ["r0"]
    assert len(by_check["look"]) == 1 and by_check["look"][0].group is not None
    # by hand: r1..r11 once each, r0 at its larger saving
    total = sum(10.0 + k for k in range(1, n)) + 30.0
    assert deduplicate(grouped)["total_monthly_usd"] == pytest.approx(total)
    assert deduplicate(findings)["total_monthly_usd"] == pytest.approx(total)
    assert sum(f.monthly_savings_usd for f in grouped) == pytest.approx(sum(10.0 + k for k in range(n)) + 30.0)


def test_nested_resources_and_kept_ids_stay_on_their_own():
    n = MIN_MEMBERS + 1
    parts = [_finding("flex", f"bedrock/1/us-east-1/model/caller-{k}", 1.0) for k in range(n)]
    whole = [_finding("batch", "bedrock/1/us-east-1/model", 5.0)]
    plain = [_finding("stop", f"r{k}", 2.0) for k in range(n)]
    grouped = group_findings(parts + whole + plain, keep={plain[0].id})
    assert sum(1 for f in grouped if f.check == "flex") == n  # nested under another finding's resource
    stop = [f for f in grouped if f.check == "stop"]
    assert sorted((f.group.members_count if f.group else 1) for f in stop) == [1, n - 1]
    assert next(f for f in stop if f.group is None).id == plain[0].id


def test_fewer_than_the_minimum_are_left_alone():
    few = [_finding("stop", f"r{k}", 2.0) for k in range(MIN_MEMBERS - 1)]
    assert group_findings(few) == sorted(few, key=lambda f: (-f.monthly_savings_usd, f.resource_id))


def test_a_group_does_not_grow_with_its_members():
    def size(n: int) -> int:
        return len(make_group([_finding("stop", f"r{k:05d}", 1.0 + k % 7) for k in range(n)], MEMBER_LIMIT)
                   .model_dump_json())

    small, large = size(MEMBER_LIMIT + 5), size(5000)
    assert large - small < 200, (small, large)  # only the counts' digits and the sums differ
    group = make_group([_finding("stop", f"r{k:05d}", 1.0 + k % 7) for k in range(5000)], MEMBER_LIMIT).group
    assert group is not None and group.rest is not None and group.rest.count == 5000 - MEMBER_LIMIT
    # the assumption only some members state is counted, the shared one is kept as it is
    shared = make_group([_finding("stop", f"r{k:05d}", 1.0) for k in range(5)], None)
    assert shared.assumptions == ["shared", *(f"about r{k:05d} (1 of 5 findings)" for k in range(5))]
    many = make_group([_finding("stop", f"r{k:05d}", 1.0) for k in range(30)], None).assumptions
    assert many[0] == "shared" and len(many) == ASSUMPTION_LIMIT + 1
    assert many[-1].startswith(f"{30 + 1 - ASSUMPTION_LIMIT} more assumption(s)")
    assert shared.evidence == {"window_days": 14}
