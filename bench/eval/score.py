"""Compare a scan document's findings with the truth an account was generated with.

A finding that claims dollars is *right* when it names the truth's lever (its check is one of the truth's
checks) on the truth's resource. Recall is by dollars: the true savings of the wastes that got a right finding,
over all true savings. Precision counts the findings claiming dollars that are right. The savings error of a
waste is |claimed - true| / true, the claim being the largest right finding (two checks may name one lever).
Every difference from the truth is listed: missed waste, dollars claimed on a clean look-alike, a wrong lever
or an unknown resource, and savings off by more than ``TOLERANCE``.

Every finding is scored, one by one: the scan document groups many findings of one check, account and resource
type into one (aifinops.finding_groups), listing the largest members and summing the rest, which the store's
``finding_history`` keeps in full. ``every_finding`` takes them from that history (``history``, the scan's
findings as recorded) or, when the document lists every member of its groups, from the groups themselves.
"""

from __future__ import annotations

import re
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from .generate import Truth

TOLERANCE = 0.20


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def names(truth: Truth, finding: dict) -> bool:
    """Does the finding name the truth's resource?"""
    rid = str(finding.get("resource_id") or "")
    if truth.region != "global" and finding.get("region") not in (None, "", truth.region):
        return False
    for ident in truth.ids:
        if ident.startswith("~"):
            if ident[1:] in _norm(rid):
                return True
        elif ident.endswith("/"):
            if rid.startswith(ident):
                return True
        elif rid == ident or rid.endswith(("/" + ident, ":" + ident)) or rid.startswith(ident + ":"):
            return True
    return False


@dataclass
class Matched:
    truth: Truth
    claimed_usd: float
    confidence: str
    check: str

    @property
    def error(self) -> float:
        """Relative error, to 0.1%: claims are rounded to cents, so a 20.0% miss must not read as 20.01%."""
        return round(abs(self.claimed_usd - self.truth.monthly_savings_usd) / self.truth.monthly_savings_usd, 3)


@dataclass
class Score:
    true_usd: float = 0.0
    found_usd: float = 0.0
    dollar_findings: int = 0
    right_findings: int = 0
    claimed_usd: float = 0.0
    right_claimed_usd: float = 0.0
    zero_findings: dict[str, int] = field(default_factory=dict)
    matched: list[Matched] = field(default_factory=list)
    disagreements: list[tuple[str, str, str]] = field(default_factory=list)  # (what, kind or check, text)

    @property
    def recall(self) -> float:
        return self.found_usd / self.true_usd if self.true_usd else 1.0

    @property
    def precision(self) -> float:
        return self.right_findings / self.dollar_findings if self.dollar_findings else 1.0


def every_finding(doc: dict[str, Any], history: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """The scan's findings one by one: ``history`` (every finding of the scan as the store recorded it) when
    given, checked against the document (as many findings, and each check's savings, as its groups stand for);
    else the document's, each group replaced by the members it lists (a group that sums some cannot be scored
    from the document alone: a ValueError says to pass the history)."""
    findings = doc.get("findings") or []
    expected = sum(f["group"]["members_count"] if f.get("group") else 1 for f in findings)
    if history is not None:
        per_check: dict[str, float] = defaultdict(float)
        for f in findings:
            per_check[f["check"]] += f["monthly_savings_usd"]
        for f in history:
            per_check[f["check"]] -= f["monthly_savings_usd"]
        off = {c: round(d, 2) for c, d in per_check.items() if abs(d) > 0.01 + 1e-6 * abs(d)}
        if len(history) != expected or off:
            raise ValueError(f"the history holds {len(history)} findings for a document of {expected} "
                             f"(savings off by check: {off}): it is not this scan's; pass the scan's own run")
        return history
    out = []
    for f in findings:
        group = f.get("group")
        if not group:
            out.append(f)
            continue
        if group.get("rest"):
            raise ValueError(f"group {f['id']} lists {len(group['members'])} of its {group['members_count']} "
                             "findings: score with the store's finding_history of the scan (history=...)")
        out += [{**m, "check": f["check"], "resource_type": f["resource_type"], "account_id": f.get("account_id")}
                for m in group["members"]]
    return out


def score(truths: list[Truth], doc: dict[str, Any], history: list[dict[str, Any]] | None = None) -> Score:
    """``doc``'s findings (``history``: every finding of the scan, see ``every_finding``) against ``truths``."""
    out = Score()
    findings = every_finding(doc, history)
    waste = [t for t in truths if not t.clean and t.monthly_savings_usd > 0]
    best: dict[int, Matched] = {}
    for f in findings:
        usd = float(f.get("monthly_savings_usd") or 0.0)
        if usd <= 0:
            out.zero_findings[f["check"]] = out.zero_findings.get(f["check"], 0) + 1
            continue
        out.dollar_findings += 1
        out.claimed_usd += usd
        named = [t for t in truths if names(t, f)]
        right = [t for t in named if not t.clean and f["check"] in t.checks]
        where = f"{f['check']} on {f.get('resource_id')} ({f.get('region')}) claims ${usd:,.2f}/month"
        if right:
            out.right_findings += 1
            out.right_claimed_usd += usd
            for t in right:
                key = id(t)
                if key not in best or usd > best[key].claimed_usd:
                    best[key] = Matched(t, usd, str(f.get("confidence")), f["check"])
        elif any(t.clean for t in named):
            clean = next(t for t in named if t.clean)
            out.disagreements.append(("FALSE", f"{f['check']} on a clean {clean.kind}",
                                      f"{where}: a clean {clean.kind} ({clean.basis})"))
        elif named:
            out.disagreements.append(("LEVER", f"{f['check']} on {named[0].kind}",
                                      f"{where}: the waste there is {named[0].kind} "
                                      f"(${named[0].monthly_savings_usd:,.2f}, {'/'.join(named[0].checks)})"))
        else:
            out.disagreements.append(("FALSE", f"{f['check']} on no generated resource", f"{where}"))
    for t in waste:
        out.true_usd += t.monthly_savings_usd
        m = best.get(id(t))
        label = f"{t.kind} {t.ids[0]} ({t.region}) true ${t.monthly_savings_usd:,.2f}"
        if m is None:
            out.disagreements.append(("MISSED", t.kind, f"{label} [{t.basis}]"))
            continue
        out.found_usd += t.monthly_savings_usd
        out.matched.append(m)
        if m.error > TOLERANCE:
            signed = (m.claimed_usd - t.monthly_savings_usd) / t.monthly_savings_usd
            out.disagreements.append(("ERROR", f"{t.kind} ({m.confidence})",
                                      f"{label}, claimed ${m.claimed_usd:,.2f} by {m.check} ({m.confidence}): "
                                      f"{signed:+.0%} [{t.basis}]"))
    return out


def summary(scores: list[Score]) -> dict[str, Any]:
    """Pooled figures over accounts: recall by dollars, precision, median error, share within ±20% per confidence."""
    true_usd = sum(s.true_usd for s in scores)
    found_usd = sum(s.found_usd for s in scores)
    dollar = sum(s.dollar_findings for s in scores)
    right = sum(s.right_findings for s in scores)
    matched = [m for s in scores for m in s.matched]
    by_conf: dict[str, list[float]] = defaultdict(list)
    by_kind: dict[str, list[float]] = defaultdict(list)
    for m in matched:
        by_conf[m.confidence].append(m.error)
        by_kind[m.truth.kind].append(m.error)
    per_account = [s.recall for s in scores]
    return {
        "accounts": len(scores),
        "recall_by_dollars": found_usd / true_usd if true_usd else 1.0,
        "recall_by_dollars_min": min(per_account) if per_account else None,
        "precision_on_dollar_claims": right / dollar if dollar else 1.0,
        "precision_by_dollars": (sum(s.right_claimed_usd for s in scores) / sum(s.claimed_usd for s in scores)
                                 if dollar else 1.0),
        "median_savings_error": statistics.median(m.error for m in matched) if matched else None,
        "within_20pct_by_confidence": {c: {"n": len(e), "share": sum(x <= TOLERANCE for x in e) / len(e)}
                                       for c, e in sorted(by_conf.items())},
        "median_error_by_kind": {k: {"n": len(e), "median": statistics.median(e)} for k, e in sorted(by_kind.items())},
        "dollar_findings": dollar,
        "zero_dollar_findings": sum(sum(s.zero_findings.values()) for s in scores),
        "true_usd": true_usd,
        "found_usd": found_usd,
    }
