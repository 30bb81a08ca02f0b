"""The shapes of the MCP tools' answers, as pydantic models (the tools' output schemas).

Each answer keeps its AWS response shape (the fields named here, in AWS's spelling) and may carry more
fields: AWS's other fields, and aifinops's own, which start with ``aifinops_``. Every answer may say
what was read differently (``aifinops_notes``) and, in the first answer of a session served from the
default store, which store answered (``aifinops_store``).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

Items = list[dict[str, Any]]


class Answer(BaseModel):
    """Any answer: AWS's fields plus aifinops's notes."""

    model_config = ConfigDict(extra="allow")
    aifinops_notes: list[str] | None = Field(None, description="what was read differently, or is missing")
    aifinops_store: str | None = Field(None, description="the store that answered (first answer of a session)")


class CostExplorerAnswer(Answer):
    """Cost Explorer: GetCostAndUsage(WithResources), GetDimensionValues, GetTags, forecasts, SP utilization."""

    ResultsByTime: Items | None = Field(None, description="GetCostAndUsage periods with Total or Groups")
    GroupDefinitions: Items | None = None
    DimensionValues: Items | None = Field(None, description="GetDimensionValues values")
    Tags: list[str] | None = Field(None, description="GetTags keys or one key's values")
    Total: dict[str, Any] | None = Field(None, description="forecast or utilization total")
    ForecastResultsByTime: Items | None = None
    SavingsPlansUtilizationsByTime: Items | None = None
    NextPageToken: str | None = Field(None, description="pass back as next_token for the next page")
    aifinops_summary: dict[str, Any] | None = Field(None, description="each group's total over the request, top N")
    aifinops_corrections: Items | None = Field(None, description="filter values that match nothing, and why")


class ComparisonAnswer(Answer):
    CostAndUsageComparisons: Items | None = None
    TotalCostAndUsage: dict[str, Any] | None = None
    CostComparisonDrivers: Items | None = None
    NextPageToken: str | None = None


class SavingsPlansAnswer(Answer):
    SavingsPlansUtilizationsByTime: Items | None = None
    SavingsPlansCoverages: Items | None = None
    Total: dict[str, Any] | None = None
    NextToken: str | None = None


class ReservationsAnswer(Answer):
    UtilizationsByTime: Items | None = None
    CoveragesByTime: Items | None = None
    Total: dict[str, Any] | None = None


class FreeTierAnswer(Answer):
    freeTierUsages: Items
    nextToken: str | None = None


class RecommendationsAnswer(Answer):
    items: Items | None = Field(None, description="recommendations (aifinops findings) or summaries")
    finding: dict[str, Any] | None = Field(None, description="get_recommendation: the finding in full")
    nextToken: str | None = None


class AnomaliesAnswer(Answer):
    Anomalies: Items
    NextPageToken: str | None = None


class BudgetsAnswer(Answer):
    Budgets: Items
    NextToken: str | None = None


class PricingAnswer(Answer):
    FormatVersion: str
    PriceList: list[str] = Field(description="products, each a JSON document as the Price List API returns it")
    NextToken: str | None = None


class ServiceCodesAnswer(Answer):
    service_codes: list[str]


class ServiceAttributesAnswer(Answer):
    service_code: str
    attributes: list[str]


class AttributeValuesAnswer(Answer):
    service_code: str
    attribute_values: dict[str, list[str]]


class MetricStatisticsAnswer(Answer):
    Label: str | None = None
    Datapoints: Items | None = None


class MetricDataAnswer(Answer):
    MetricDataResults: Items
    Messages: Items | None = None
    NextToken: str | None = None


class MetricMetadataAnswer(Answer):
    metric_name: str
    series: Items


class AlarmsAnswer(Answer):
    MetricAlarms: Items
    CompositeAlarms: Items
    NextToken: str | None = None


class ActiveAlarmsAnswer(Answer):
    metric_alarms: Items
    composite_alarms: Items
    has_more_results: bool


class DashboardsAnswer(Answer):
    DashboardEntries: Items
    NextToken: str | None = None


class DashboardAnswer(Answer):
    DashboardName: str | None = None
    DashboardArn: str | None = None
    DashboardBody: str | None = None


class WasteAnswer(Answer):
    findings: Items
    findings_total: int
    next_token: str | None = None


class FindingAnswer(Answer):
    finding: dict[str, Any]
    check: dict[str, Any]


class Document(Answer):
    """An aifinops document (cost overview, anomalies, forecast, a simulation): its fields as documented."""
