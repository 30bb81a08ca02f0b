"""A finding group the scan shows (aifinops.finding_groups) is something a person can ask about through the CLI:
`findings show GROUP_ID` shows it (members with their dollars, the rest summed, how to see each member),
`findings list` says which group each finding belongs to and `--group` lists one group's members, and the
action plan's headline and the scan's texts count the findings a group stands for. Expectations come from hand
arithmetic and from SQL of this test over the store's finding_history, never from the grouping code."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import duckdb
import pytest

from clirun import run_cli
from notebook_fleet import ACCOUNTS, NOTEBOOK, RATE, scan_fleet
from notebook_fleet import notebook_arn as _arn
from test_json_answers_rounded import AS_PRINTED_USD

# the notebook check's defaults: a 730-hour month, needed 50 h of the week's 168
SAVING = RATE * 730 * (168 - 50) / 168
COST = RATE * 730
LISTED = 20  # members a group lists one by one (the rest summed)


def _usd(value: float) -> str:
    return f"${value:,.2f}"


@pytest.fixture(scope="module")
def scanned(tmp_path_factory) -> dict:
    """40 always-on notebooks in three accounts, scanned once into a fresh store (the scan kept in the history)."""
    tmp = tmp_path_factory.mktemp("groups")
    store, text = scan_fleet(tmp)
    doc = json.loads(text)
    groups = {f["account_id"]: f for f in doc["findings"] if f["check"] == NOTEBOOK and f["group"]}
    assert set(groups) == {"111111111111", "222222222222"}
    return {"store": store, "doc": doc, "groups": groups, "tmp": tmp}


def _history(store: Path, where: str = "TRUE", params: list | None = None) -> list[tuple]:
    """(finding id, check, account, resource id, savings) of the last recorded scan, by SQL of this test."""
    con = duckdb.connect(str(store), read_only=True)
    try:
        return con.execute(
            "SELECT finding_id, check_id, json_extract_string(finding, '$.account_id'), resource_id, "
            "monthly_savings_usd FROM finding_history "
            f"WHERE run_id = (SELECT run_id FROM scan_runs ORDER BY run_at DESC LIMIT 1) AND {where}",
            params or [],
        ).fetchall()
    finally:
        con.close()


def _notebook_ids(store: Path, account: str) -> set[str]:
    return {r[0] for r in _history(store, "check_id = ? AND json_extract_string(finding, '$.account_id') = ?",
                                   [NOTEBOOK, account])}


def test_findings_show_a_group_with_its_members_and_the_rest_summed(scanned):
    gid = scanned["groups"]["111111111111"]["id"]
    shown = run_cli("findings", "show", gid, "-f", "json", "--store", str(scanned["store"]))
    assert shown.returncode == 0, shown.stderr
    g = json.loads(shown.stdout)
    assert g["id"] == gid and g["check"] == NOTEBOOK and g["account_id"] == "111111111111"
    assert g["group"]["members_count"] == 25
    assert g["monthly_savings_usd"] == pytest.approx(25 * SAVING, **AS_PRINTED_USD)
    assert g["monthly_cost_usd"] == pytest.approx(25 * COST, **AS_PRINTED_USD)
    members = g["group"]["members"]
    assert len(members) == LISTED
    assert all(m["monthly_savings_usd"] == pytest.approx(SAVING, **AS_PRINTED_USD) for m in members)
    assert {m["id"] for m in members} <= _notebook_ids(scanned["store"], "111111111111")
    rest = g["group"]["rest"]
    assert rest["count"] == 25 - LISTED
    assert rest["monthly_savings_usd"] == pytest.approx((25 - LISTED) * SAVING, **AS_PRINTED_USD)
    assert f"--group {gid}" in g["group"]["more"]
    # the same group the scan document showed
    assert g == {**scanned["groups"]["111111111111"], "decision": None}

    text = run_cli("findings", "show", gid, "--store", str(scanned["store"]))
    assert text.returncode == 0, text.stderr
    out = text.stdout
    assert "finding group of 25 findings" in out
    assert f"Saving {_usd(25 * SAVING)}/month of {_usd(25 * COST)}/month" in out
    assert f"The other 5: {_usd(5 * SAVING)}/month of {_usd(5 * COST)}/month" in out
    assert f"aifinops findings list --group {gid}" in out
    assert sum(m["id"] in out for m in members) == LISTED  # each listed member's id, to show it in full


def test_a_group_that_lists_every_member_shows_no_rest(scanned):
    gid = scanned["groups"]["222222222222"]["id"]
    shown = run_cli("findings", "show", gid, "-f", "json", "--store", str(scanned["store"]))
    assert shown.returncode == 0, shown.stderr
    g = json.loads(shown.stdout)["group"]
    assert g["members_count"] == 12 and g["rest"] is None
    assert {m["id"] for m in g["members"]} == _notebook_ids(scanned["store"], "222222222222")


def test_findings_list_names_each_members_group_and_lists_one_group(scanned):
    store = scanned["store"]
    listed = run_cli("findings", "list", "-f", "json", "--store", str(store))
    assert listed.returncode == 0, listed.stderr
    rows = json.loads(listed.stdout)["findings"]
    assert len(rows) == len(_history(store))  # every finding of the scan, one by one
    by_group: dict[str | None, set[str]] = {}
    for r in rows:
        if r["id"] in _notebook_ids(store, "111111111111") | _notebook_ids(store, "222222222222") | \
                _notebook_ids(store, "333333333333"):
            by_group.setdefault(r["group"], set()).add(r["id"])
    groups = scanned["groups"]
    assert by_group == {
        groups["111111111111"]["id"]: _notebook_ids(store, "111111111111"),
        groups["222222222222"]["id"]: _notebook_ids(store, "222222222222"),
        None: _notebook_ids(store, "333333333333"),  # three: too few to group
    }

    gid = groups["111111111111"]["id"]
    one = run_cli("findings", "list", "--group", gid, "-f", "json", "--store", str(store))
    assert one.returncode == 0, one.stderr
    members = json.loads(one.stdout)["findings"]
    assert {r["id"] for r in members} == _notebook_ids(store, "111111111111")
    assert [r["rank"] for r in members] == list(range(1, 26))
    # the members' cents add up to the group's saving as the scan shows it (not 25 x the saving rounded alone)
    assert sum(r["monthly_savings_usd"] for r in members) == pytest.approx(round(25 * SAVING, 2), abs=1e-6)

    text = run_cli("findings", "list", "--store", str(store))
    assert text.returncode == 0, text.stderr
    out = " ".join(text.stdout.split())
    for account, n in (("111111111111", 25), ("222222222222", 12)):
        g = groups[account]["id"]
        assert f"{n} {NOTEBOOK} findings" in out and f"aifinops findings list --group {g}" in out


def test_an_unknown_group_is_a_one_line_error(scanned):
    gid = scanned["groups"]["111111111111"]["id"]
    wrong = gid[:-1] + ("0" if gid[-1] != "0" else "1")
    listed = run_cli("findings", "list", "--group", wrong, "--store", str(scanned["store"]))
    assert listed.returncode != 0
    assert f"no finding group {wrong!r}" in listed.stderr and gid in listed.stderr
    shown = run_cli("findings", "show", wrong, "--store", str(scanned["store"]))
    assert shown.returncode != 0 and f"No scan reported a finding {wrong!r}" in shown.stderr


def test_the_plan_headline_and_the_scan_texts_count_every_member(scanned, tmp_path):
    store = tmp_path / "store.duckdb"
    shutil.copy(scanned["store"], store)
    result = run_cli("scan", "--store", str(store))
    assert result.returncode == 0, result.stderr
    history = _history(store)
    findings = len(history)
    resources = len({r[3] for r in history})
    assert {r[3] for r in history} >= {_arn(a, k) for a, n in ACCOUNTS.items() for k in range(n)}
    out = " ".join(result.stdout.split())
    headline = re.search(r"from (\d+) finding\(s\) on (\d+) resource\(s\)", out)
    assert headline is not None, out[:500]
    assert (int(headline[1]), int(headline[2])) == (findings, resources)
    assert f"{findings} finding(s) in all (aifinops findings list lists every one)" in out
    assert "scan --format json lists every one" not in out

    md = run_cli("scan", "--store", str(store), "-f", "markdown")
    assert md.returncode == 0, md.stderr
    assert f"## Findings ({findings})" in md.stdout
    assert re.search(rf"\*\*Savings available: .* from {findings} finding\(s\) on {resources} resource\(s\)",
                     md.stdout)


def test_a_scan_whose_json_lists_every_member_says_so(scanned, tmp_path):
    """A scan of some checks is not kept in the history: its groups list every member, and the text says the
    JSON has them all."""
    store = tmp_path / "store.duckdb"
    shutil.copy(scanned["store"], store)
    result = run_cli("scan", "--check", NOTEBOOK, "--store", str(store))
    assert result.returncode == 0, result.stderr
    out = " ".join(result.stdout.split())
    n = sum(ACCOUNTS.values())  # the notebook check alone: one finding per notebook
    assert re.search(rf"from {n} finding\(s\) on {n} resource\(s\)", out), out[:500]
    assert f"{n} finding(s) in all (aifinops scan --format json lists every one)" in out


def test_the_eval_scorer_scores_every_member_of_a_group(scanned, tmp_path):
    """bench/eval/score.py scores finding by finding: a group's members come from the store's history (the
    document lists 20 of 25), or from the group itself when it lists them all."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from bench.eval.generate import Truth
    from bench.eval.run import scan_history
    from bench.eval.score import every_finding, score

    truths = [Truth(kind="notebook always on", checks=(NOTEBOOK,), ids=(_arn(a, k),), region="us-east-1",
                    monthly_savings_usd=SAVING, basis="by hand") for a, n in ACCOUNTS.items() for k in range(n)]
    doc = scanned["doc"]
    with pytest.raises(ValueError, match="finding_history"):
        every_finding(doc)
    history = scan_history(scanned["store"])
    assert len(history) == len(_history(scanned["store"]))
    s = score(truths, doc, history)
    assert len(s.matched) == 40 and s.true_usd == pytest.approx(40 * SAVING)
    assert s.recall == pytest.approx(1.0)
    assert not [d for d in s.disagreements if d[0] in ("MISSED", "ERROR")]
    with pytest.raises(ValueError, match="not this scan's"):
        score(truths, doc, history[1:])

    # a scan not kept in the history lists every member: the document alone scores them
    store = tmp_path / "store.duckdb"
    shutil.copy(scanned["store"], store)
    result = run_cli("scan", "--check", NOTEBOOK, "--store", str(store), "-f", "json")
    assert result.returncode == 0, result.stderr
    alone = json.loads(result.stdout)
    assert any(f["group"] for f in alone["findings"])
    members = every_finding(alone)
    assert sorted(f["id"] for f in members) == sorted(r[0] for r in _history(store) if r[1] == NOTEBOOK)
    s = score(truths, alone)
    assert len(s.matched) == 40 and s.recall == pytest.approx(1.0) and s.dollar_findings == 40


def test_a_decision_on_a_group_says_it_is_taken_per_member(scanned, tmp_path):
    store = tmp_path / "store.duckdb"
    shutil.copy(scanned["store"], store)
    gid = scanned["groups"]["111111111111"]["id"]
    done = run_cli("findings", "dismiss", gid, "--reason", "all of them", "--store", str(store))
    assert done.returncode != 0
    err = " ".join(done.stderr.split())
    assert f"{gid} is a finding group of 25 findings" in err
    assert f"aifinops findings list --group {gid}" in err and "aifinops findings dismiss ID" in err
    con = duckdb.connect(str(store), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM finding_states").fetchone() == (0,)  # nothing written
    finally:
        con.close()
    # an id no scan reported still gets the history's own error
    other = run_cli("findings", "accept", "nope:000000000000", "--store", str(store))
    assert other.returncode != 0 and "No scan reported a finding 'nope:000000000000'" in other.stderr
