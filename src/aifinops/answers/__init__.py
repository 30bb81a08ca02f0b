"""What the MCP tools answer, as library functions over the store (no MCP SDK in here).

The guide (the AI Workloads Cost Optimization Guide of the AWS cost optimization Kiro power, see the README)
calls AWS Labs MCP tools with its own argument shapes, some of them wrong. This package accepts both the guide's
shapes and the real AWS ones, answers in AWS response shapes, and where a call is itself wrong says precisely
what is wrong and what to ask instead:

- ``args``: argument normalization (JSON strings or objects, CamelCase or snake_case keys, dates,
  enums) and paging with opaque tokens, answers kept under ``MAX_ANSWER_BYTES``.
- ``ce_tool`` (with ``ce_args``): the eight ``cost_explorer`` / ``cost-explorer`` operations over ``aifinops.costs``.
- ``billing``: the AWS Labs billing tools the bill answers (cost-comparison, sp-/ri-performance,
  free-tier-usage, cost-optimization over aifinops findings, cost allocation tags).
- ``peers``: the AWS Labs tools the store cannot answer, their arguments, and what answers instead.
- ``shapes``: the answers' pydantic models (the tools' output schemas).
- ``metrics`` and ``metric_math``: GetMetricStatistics / GetMetricData over the ``metrics`` table,
  metric math over the ids defined in the request, derived metrics (TrainingJobDuration).
- ``inventory``: DescribeAlarms, get_active_alarms, ListDashboards, GetDashboard and DescribeBudgets over
  ``resources``.
- ``pricing``: ``get_pricing`` arguments for the price catalog, and the pricing server's discovery tools.
- ``waste``: findings ranked by dollars, paged, one finding explained, and the latest recorded scan.
- ``genai``: cost per agent, per-request cost scaled to the bill, the stored gateway spend logs against the
  bill (``aifinops genai agents | requests | reconcile``), with their output shapes.

``aifinops.mcp_server`` registers these as MCP tools; it holds no logic of its own.
"""

from aifinops.answers.args import MAX_ANSWER_BYTES, to_json

__all__ = ["MAX_ANSWER_BYTES", "to_json"]
