"""Core types shared by analysis and outputs: findings and the scan result (aifinops.scan/1)."""

from __future__ import annotations

import hashlib
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

SCAN_SCHEMA = "aifinops.scan/1"

Confidence = Literal["high", "medium", "low"]


class Action(BaseModel):
    """One remediation step, emitted as text for a human to apply (aifinops never changes AWS)."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["console", "cli", "custodian", "note"]
    text: str


class Finding(BaseModel):
    """One resource's waste, in dollars, with the numbers that prove it (DESIGN.md contract)."""

    model_config = ConfigDict(extra="forbid")

    id: str = ""
    check: str
    title: str
    resource_id: str
    resource_type: str
    region: str | None = None
    account_id: str | None = None
    monthly_cost_usd: float
    monthly_savings_usd: float
    confidence: Confidence
    evidence: dict[str, Any] = Field(default_factory=dict)
    assumptions: list[str] = Field(default_factory=list)
    actions: list[Action] = Field(default_factory=list)

    def model_post_init(self, __context: Any) -> None:
        if not self.id:
            digest = hashlib.sha1(f"{self.check}|{self.resource_id}".encode()).hexdigest()[:12]
            self.id = f"{self.check}:{digest}"
        if self.monthly_savings_usd < 0 or self.monthly_cost_usd < 0:
            raise ValueError(f"{self.check}: negative money in a finding for {self.resource_id}")
        if self.monthly_savings_usd > self.monthly_cost_usd + 1e-6:
            raise ValueError(f"{self.check}: savings exceed cost for {self.resource_id}")
