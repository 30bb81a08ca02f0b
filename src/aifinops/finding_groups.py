"""Finding groups: many findings of one kind that a person reads as one, kept compact in the scan document.

On an account with thousands of resources the checks report one finding per notebook, GPU instance or
training job; the scan document then runs to megabytes of the same assumptions and commands. Here,
at document-build time, findings of one check, account and resource type (at least ``MIN_MEMBERS``) become one
finding whose ``group`` lists its members with their dollars, largest first. The checks themselves and the
store's history are untouched: ``history.record_scan`` keeps every finding in full, so ``aifinops findings list``
and ``findings show ID`` still answer for each member.

What a group holds:
- ``monthly_cost_usd`` and ``monthly_savings_usd``: the members' sums (``math.fsum``, so independent of order),
  to the findings' significant digits (``checks.base.canonical_number``).
- ``evidence``: the evidence entries every member has with the same value (the window, shared parameters).
- ``assumptions``: each distinct assumption once, with how many members state it when not all do, the most
  stated first, at most ``ASSUMPTION_LIMIT`` (then how many more).
- ``actions``: a note on how to apply them to every member, then the largest member's own steps.
- ``group.members``: at most ``member_limit`` members (``None``: all of them, for a scan not kept in the
  history), ``group.rest`` the count and sums of the others.

A group never changes the deduplicated total (``checks.base.deduplicate``, which counts each resource's largest
saving once): a finding joins a group only when no other finding on its resource (nor on a resource nested
under it or above it, ``bedrock/acct/region/model/caller``) has a saving too, or when its own saving is zero;
and findings the user decided on (dismissed, snoozed, accepted) stay on their own, so the action plan still
hides or marks them by id.
"""

from __future__ import annotations

import json
import math
from collections import Counter, defaultdict
from typing import Any

import duckdb

from aifinops.actions import finding_states
from aifinops.checks.base import REGISTRY, canonical_number, finding_order
from aifinops.model import Action, Finding, FindingGroup, GroupMember, GroupRest
from aifinops.store import Store

MIN_MEMBERS = 10  # fewer findings of one kind in one account read fine one by one
ASSUMPTION_LIMIT = 8  # distinct assumptions a group states; member-specific ones beyond are counted
MEMBER_LIMIT = 20  # members listed one by one in a group; the rest are summed (and all are in the history)
CONFIDENCE_ORDER = ("low", "medium", "high")  # a group is as confident as its least confident member
MORE_TEXT = (
    "The other {rest:,} are in the store's scan history: `aifinops findings list --group {id}` lists every member "
    "with its id and saving, `aifinops findings show ID` shows one in full."
)


def _related(resource_ids: set[str]) -> set[str]:
    """Resource ids that have another resource nested under them or above them (``a/b`` and ``a/b/c``)."""
    related: set[str] = set()
    for rid in resource_ids:
        i = rid.find("/")
        while i >= 0:
            if rid[:i] in resource_ids:
                related.update((rid, rid[:i]))
            i = rid.find("/", i + 1)
    return related


def groupable(findings: list[Finding], keep: set[str]) -> list[bool]:
    """Whether each finding may join a group without changing the deduplicated total (module docstring)."""
    saving_on: Counter[str] = Counter(f.resource_id for f in findings if f.monthly_savings_usd > 0)
    nested = _related({f.resource_id for f in findings})
    return [
        f.id not in keep
        and f.resource_id not in nested
        and (f.monthly_savings_usd <= 0 or saving_on[f.resource_id] == 1)
        for f in findings
    ]


# json.dumps(value, sort_keys=True) without building an encoder per call (thousands of members' evidence values)
_encode = json.JSONEncoder(sort_keys=True).encode


_EXACT_TYPES = (str, int, bool, type(None))  # equal values of one of these exact types encode alike


def _same_json(a: Any, b: Any) -> bool:
    """Whether ``_encode(a) == _encode(b)``, answered without encoding when it is plain: values of one exact type
    that compare equal, recursively (floats also by sign, 0.0 and -0.0 encode apart); else by encoding both."""
    kind = type(a)
    if kind is type(b):
        if kind in _EXACT_TYPES:
            if a == b:
                return True
        elif kind is float:
            if a == b and math.copysign(1.0, a) == math.copysign(1.0, b):
                return True
        elif kind is dict:
            if a.keys() == b.keys() and all(type(k) is str for k in a) and all(_same_json(a[k], b[k]) for k in a):
                return True
        elif kind is list and len(a) == len(b) and all(_same_json(x, y) for x, y in zip(a, b, strict=True)):
            return True
    return bool(_encode(a) == _encode(b))


def _common_evidence(members: list[Finding]) -> dict[str, Any]:
    first = members[0].evidence
    common = {}
    for key, value in first.items():
        if all(key in m.evidence and _same_json(m.evidence[key], value) for m in members[1:]):
            common[key] = value
    return common


def _assumptions(members: list[Finding]) -> list[str]:
    counts: Counter[str] = Counter()
    for m in members:
        counts.update(dict.fromkeys(m.assumptions, 1))
    seen = list(dict.fromkeys(a for m in members for a in m.assumptions))
    # the most stated first (stable: first seen among equals), at most ASSUMPTION_LIMIT
    order = sorted(seen, key=lambda a: -counts[a])
    kept = [a if counts[a] == len(members) else f"{a} ({counts[a]:,} of {len(members):,} findings)"
            for a in order[:ASSUMPTION_LIMIT]]
    if len(order) > ASSUMPTION_LIMIT:
        kept.append(f"{len(order) - ASSUMPTION_LIMIT:,} more assumption(s), each stated by some of the findings: "
                    "`aifinops findings show ID` shows a member's own.")
    return kept


def make_group(members: list[Finding], member_limit: int | None) -> Finding:
    """One finding standing for ``members`` (one check, account and resource type), as the module describes."""
    members = sorted(members, key=finding_order)
    top = members[0]
    check, account, resource_type = top.check, top.account_id, top.resource_type
    listed = members if member_limit is None else members[:member_limit]
    others = members[len(listed):]
    savings = canonical_number(math.fsum(m.monthly_savings_usd for m in members))
    cost = max(canonical_number(math.fsum(m.monthly_cost_usd for m in members)), savings)
    regions = {r or "": n for r, n in sorted(Counter(m.region for m in members).items(), key=lambda kv: kv[0] or "")}
    confidence = min((m.confidence for m in members), key=CONFIDENCE_ORDER.index)
    cls = REGISTRY.get(check)
    what = cls.title if cls is not None and cls.title else top.title
    where = f"account {account}" if account else "no account"
    group = Finding(
        check=check,
        title=f"{what}: {len(members):,} {resource_type} findings in {where}",
        resource_id=group_resource(check, account, resource_type),
        resource_type=resource_type,
        region=top.region if len(regions) == 1 else None,
        account_id=account,
        monthly_cost_usd=cost,
        monthly_savings_usd=savings,
        confidence=confidence,
        evidence=_common_evidence(members),
        assumptions=_assumptions(members),
        actions=[
            Action(
                kind="note",
                text=f"The same steps for each of the {len(members):,} findings (group.members, largest saving "
                f"first); below, those of the largest: {top.title} ({top.id}).",
            ),
            *top.actions,
        ],
        group=FindingGroup(
            members_count=len(members),
            members=[
                GroupMember(
                    id=m.id,
                    resource_id=m.resource_id,
                    region=m.region,
                    monthly_cost_usd=m.monthly_cost_usd,
                    monthly_savings_usd=m.monthly_savings_usd,
                    confidence=m.confidence,
                )
                for m in listed
            ],
            rest=GroupRest(
                count=len(others),
                monthly_cost_usd=canonical_number(math.fsum(m.monthly_cost_usd for m in others)),
                monthly_savings_usd=canonical_number(math.fsum(m.monthly_savings_usd for m in others)),
            )
            if others
            else None,
            regions=regions,
            confidence_counts={c: n for c in CONFIDENCE_ORDER if (n := sum(m.confidence == c for m in members))},
        ),
    )
    if others and group.group is not None:  # the id is the group's own (check and resource), known once built
        group.group.more = MORE_TEXT.format(rest=len(others), id=group.id)
    return group


def group_findings(
    findings: list[Finding],
    keep: set[str] | None = None,
    member_limit: int | None = MEMBER_LIMIT,
    min_members: int = MIN_MEMBERS,
) -> list[Finding]:
    """``findings`` with every set of at least ``min_members`` groupable findings of one check, account and
    resource type replaced by one group finding; ``keep``: ids that stay on their own (the user's decisions).
    Returned in the scan's order (``checks.base.finding_order``)."""
    kinds = group_members(findings, keep, min_members)
    grouped = {f.id for members in kinds for f in members}
    out = [f for f in findings if f.id not in grouped]
    out += [make_group(m, member_limit) for m in kinds]
    return sorted(out, key=finding_order)


def group_members(findings: list[Finding], keep: set[str] | None = None, min_members: int = MIN_MEMBERS
                  ) -> list[list[Finding]]:
    """The findings each group of ``group_findings`` would stand for (same arguments), without building it."""
    ok = groupable(findings, keep or set())
    kinds: dict[tuple[str, str, str], list[Finding]] = defaultdict(list)
    for f, can in zip(findings, ok, strict=True):
        if can and f.group is None:
            kinds[(f.check, f.account_id or "", f.resource_type)].append(f)
    return [members for members in kinds.values() if len(members) >= min_members]


def group_resource(check: str, account_id: str | None, resource_type: str) -> str:
    """A finding group's resource id: its check, account and resource type."""
    return f"group:{check}:{account_id or 'no-account'}:{resource_type}"


def group_id(members: list[Finding]) -> str:
    """The id of the finding ``make_group(members)`` builds, without building it (a finding's id is its check's
    and resource's, ``model.Finding``)."""
    top = members[0]
    return Finding(check=top.check, title="", resource_id=group_resource(top.check, top.account_id,
                   top.resource_type), resource_type=top.resource_type, monthly_cost_usd=0.0,
                   monthly_savings_usd=0.0, confidence="low").id


__all__ = [
    "ASSUMPTION_LIMIT", "MEMBER_LIMIT", "MIN_MEMBERS", "compact_findings", "group_findings", "group_id",
    "group_members", "group_resource", "groupable", "make_group", "recorded_groups",
]


def compact_findings(store: Store, findings: list[Finding], members_in_history: bool,
                     decided: set[str] | None = None) -> list[Finding]:
    """The scan document's findings: ``group_findings`` with the user's decided findings kept on their own;
    ``members_in_history``: whether the store's history holds every finding (then groups list the largest
    ``MEMBER_LIMIT`` members, else all of them). ``decided``: the ids of ``finding_states`` when the caller read
    them already (a read-only connection costs 0.1 s to open), else read from ``store``."""
    if decided is None:
        with store.connect(read_only=True) as con:
            decided = set(finding_states(con))
    return group_findings(findings, keep=decided, member_limit=MEMBER_LIMIT if members_in_history else None)


def recorded_groups(con: duckdb.DuckDBPyConnection, findings: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Group id → its members (largest saving first, as the history holds them), for ``findings``: every finding of
    a scan the store's history kept (``tracking.latest_findings``), grouped as the scan document groups them, the
    user's decisions as they stand now (a finding decided on since the scan stays on its own). ``make_group`` of
    the members (validated) is the group as the document showed it; ``aifinops findings show|list`` read this."""
    decided = set(finding_states(con))
    by_id = {f["id"]: f for f in findings}
    # membership reads a few top-level fields: built without validation (the scan validated each finding)
    light = [Finding.model_construct(**f) for f in findings]
    groups = {}
    for members in group_members(light, keep=decided):
        members.sort(key=finding_order)
        groups[group_id(members)] = [by_id[m.id] for m in members]
    return groups
