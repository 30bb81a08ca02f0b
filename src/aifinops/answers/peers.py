"""The AWS Labs MCP servers' tools that the store cannot answer, with their arguments and what would answer.

Assistants are prompted with the AWS Labs billing, pricing and CloudWatch servers' tool names and
arguments (public repository ``awslabs/mcp``; ``SOURCES`` names the commit each list was read at).
Every such tool is accepted here: the ones the store holds data for are answered by the other modules
of this package; the ones below take their real arguments and answer with a precise refusal that
names what would answer instead (an aifinops tool or command, or the AWS Labs server against AWS).
No code was copied: only the names, which are public facts about those servers.
"""

from __future__ import annotations

from dataclasses import dataclass

from aifinops.errors import ArgumentError

# Where each server's tool list and argument names were read (awslabs/mcp on GitHub).
SOURCES = {
    "billing-cost-management-mcp-server": "awslabs/mcp@100b55b6d92f731bc8d23486ce9efd5bbf90c606 (2026-08-21)",
    "aws-pricing-mcp-server": "awslabs/mcp@100b55b6d92f731bc8d23486ce9efd5bbf90c606 (2026-08-21)",
    "cloudwatch-mcp-server": "awslabs/mcp@100b55b6d92f731bc8d23486ce9efd5bbf90c606 (2026-08-21)",
    # Deprecated for billing-cost-management and removed in 092e7ca; its last tree:
    "cost-explorer-mcp-server": "awslabs/mcp@3dcebe5167d555e1bf94e503327748cc1d40cee9 (2026-03-24)",
}


@dataclass(frozen=True)
class Param:
    """One argument of a peer tool: its name, a type code, whether it is required, and what it means."""

    name: str
    kind: str  # str | int | bool | strs (list of strings) | obj (a JSON object, or it as a string)
    description: str
    required: bool = False


@dataclass(frozen=True)
class Refused:
    """A peer tool this store cannot answer: why, and what to ask instead."""

    name: str
    server: str
    params: tuple[Param, ...]
    why: str
    instead: str

    def refuse(self) -> ArgumentError:
        return ArgumentError(f"{self.name}: {self.why}", self.instead)


def _p(name: str, kind: str = "str", description: str = "", required: bool = False) -> Param:
    return Param(name, kind, description or name.replace("_", " "), required)


_PAGE = (_p("max_results", "int", "items per page"), _p("next_token", "str", "token of the next page"),
         _p("max_pages", "int", "pages to fetch at most"))
_BC = (_p("billing_period", "str", "billing period YYYY-MM"), _p("filters", "obj", "filter object"),
       _p("max_pages", "int", "pages to fetch at most"), _p("next_token", "str", "token of the next page"))
_AWS_CREDS = (_p("region", "str", "AWS region (this server answers from the store, whatever the region)"),
              _p("profile_name", "str", "AWS CLI profile (unused: this server reads no AWS credentials)"))
_BILLING = "billing-cost-management-mcp-server"
_PRICING = "aws-pricing-mcp-server"
_CW = "cloudwatch-mcp-server"

_CONDUCTOR = ("AWS Billing Conductor (pro forma billing groups, pricing rules and plans, custom line items) is "
              "configured in AWS and appears in no billing export aifinops reads.")
_CONDUCTOR_FIX = ("use the AWS Labs billing-cost-management server against AWS for Billing Conductor; for costs "
                  "by account ask cost_explorer with group_by LINKED_ACCOUNT.")
_VIEWS = "Billing views and their resource policies are AWS Billing configuration, not billing data."
_VIEWS_FIX = ("ask cost_explorer without billing_view_arn (the store holds the billing exports it was given), or use "
              "the AWS Labs billing-cost-management server against AWS.")
_PROMQL = "PromQL queries read CloudWatch's OpenTelemetry metrics live; the store holds no OTel series."
_PROMQL_FIX = "ask get_metric_data or get_metric_statistics for the CloudWatch datapoints the store holds."
_LOGS = "CloudWatch Logs are not collected: the store holds metrics, alarms and dashboards, not log events."
_LOGS_FIX = ("use the AWS Labs cloudwatch server against AWS for logs; for model invocation costs ask cost_explorer "
             "with group_by MODEL.")
_NEEDS_AWS = "use the AWS Labs billing-cost-management server against AWS for it."

REFUSED: tuple[Refused, ...] = (
    # ---------------------------------------------------------------- billing-cost-management
    Refused("bcm-pricing-calc", _BILLING,
            (_p("operation", required=True), _p("identifier"), _p("created_after"), _p("created_before"),
             _p("expires_after"), _p("expires_before"), _p("status_filter"), _p("name_filter"),
             _p("name_match_option"), _p("usage_account_id_filter"), _p("service_code_filter"),
             _p("usage_type_filter"), _p("operation_filter"), _p("location_filter"), _p("usage_group_filter"),
             *_PAGE),
            "AWS Pricing Calculator workload estimates live in AWS and are not collected.",
            "for what-if prices ask compare_inference_options, bedrock_cost_levers or simulate_spot_training; "
            + _NEEDS_AWS),
    *(Refused(name, _BILLING, params, _CONDUCTOR, _CONDUCTOR_FIX) for name, params in (
        ("list-billing-groups", _BC), ("list-account-associations", _BC), ("list-billing-group-cost-reports", _BC),
        ("get-billing-group-cost-report", (_p("arn", required=True), _p("billing_period_range", "obj"),
                                           _p("group_by", "strs"), _BC[2], _BC[3])),
        ("list-custom-line-items", _BC),
        ("list-custom-line-item-versions", (_p("arn", required=True), *_BC[1:])),
        ("list-resources-associated-to-custom-line-item", (_p("arn", required=True), *_BC)),
        ("list-pricing-rules", _BC), ("list-pricing-plans", _BC),
        ("list-pricing-rules-for-plan", (_p("pricing_plan_arn", required=True), _BC[0], _PAGE[0], _BC[2], _BC[3])),
        ("list-pricing-plans-for-rule", (_p("pricing_rule_arn", required=True), _BC[0], _PAGE[0], _BC[2], _BC[3])),
    )),
    Refused("budget-actions", _BILLING,
            (_p("budget_name"), _p("max_results", "int"), _p("account_id"), _p("next_token"), _p("max_pages", "int")),
            "budget actions are not collected (`aifinops collect` reads DescribeBudgets only).",
            "ask budgets for the budgets and their spend from the store; " + _NEEDS_AWS),
    Refused("budget-notifications", _BILLING,
            (_p("budget_name"), _p("max_results", "int"), _p("account_id"), _p("next_token"), _p("max_pages", "int")),
            "budget notifications are not collected (`aifinops collect` reads DescribeBudgets only).",
            "ask budgets for the budgets and their spend, or run `aifinops budgets` / `aifinops alerts`; "
            + _NEEDS_AWS),
    Refused("get-billing-view", _BILLING, (_p("arn", required=True),), _VIEWS, _VIEWS_FIX),
    Refused("list-billing-views", _BILLING,
            (_p("active_after_inclusive"), _p("active_before_inclusive"), _p("arns", "strs"),
             _p("billing_view_types", "strs"), _p("max_results", "int"), _p("names", "strs"), _p("owner_account_id"),
             _p("source_account_id"), _p("max_pages", "int"), _p("next_token")), _VIEWS, _VIEWS_FIX),
    Refused("list-source-views-for-billing-view", _BILLING,
            (_p("arn", required=True), _p("max_results", "int"), _p("max_pages", "int"), _p("next_token")),
            _VIEWS, _VIEWS_FIX),
    Refused("get-resource-policy", _BILLING, (_p("resource_arn", required=True),), _VIEWS, _VIEWS_FIX),
    Refused("compute-optimizer", _BILLING,
            (_p("operation", required=True), _p("region"), _p("max_results", "int"), _p("filters", "obj"),
             _p("account_ids", "strs"), _p("next_token")),
            "Compute Optimizer recommendations are not collected, and Compute Optimizer does not cover SageMaker.",
            "ask find_waste (GPU rightsizing, idle endpoints and notebooks, training on demand) or cost-optimization "
            "operation list_recommendations; " + _NEEDS_AWS),
    Refused("compute-optimizer-automation", _BILLING,
            (_p("operation", required=True), _p("regions", "strs"), _p("event_id"), _p("rule_arn"),
             _p("resource_arn"), _p("filters", "obj"), _p("start_time"), _p("end_time"), _p("start_date"),
             _p("end_date"), _p("rule_type"), _p("recommended_action_types", "strs"), _p("organization_scope", "obj"),
             _p("criteria", "obj"), *_PAGE),
            "Compute Optimizer automation rules and events are AWS configuration, not collected.",
            "ask find_waste for what to change; " + _NEEDS_AWS),
    Refused("list-cost-allocation-tag-backfill-history", _BILLING,
            (_p("max_results", "int"), _p("next_token"), _p("max_pages", "int")),
            "tag backfill requests are AWS Billing history, not in billing exports.",
            "ask list-cost-allocation-tags for the tag keys the bill carries; " + _NEEDS_AWS),
    Refused("describe-cost-category-definition", _BILLING,
            (_p("cost_category_arn", required=True), _p("effective_on")),
            "cost category rules are AWS Billing configuration; the store keeps no cost categories.",
            "ask cost_explorer operation getTagsOrValues for tags, or group_by TAG; " + _NEEDS_AWS),
    Refused("list-cost-category-definitions", _BILLING,
            (_p("effective_on"), _p("supported_resource_types", "strs"), _p("max_results", "int"), _p("next_token"),
             _p("max_pages", "int")),
            "cost category rules are AWS Billing configuration; the store keeps no cost categories.",
            "ask cost_explorer operation getTagsOrValues for tags, or group_by TAG; " + _NEEDS_AWS),
    Refused("credits", _BILLING,
            (_p("operation", required=True), _p("start_date"), _p("end_date"), _p("billing_period"),
             _p("account_id"), _p("payer_account_flag", "bool"), _p("credit_id"), *_PAGE),
            "credit balances and expiry dates live in AWS Billing; the bill holds only the credits applied.",
            'ask cost_explorer with filter {"Dimensions": {"Key": "RECORD_TYPE", "Values": ["Credit"]}} for the '
            "credits the bill applied; " + _NEEDS_AWS),
    Refused("invoice-units", _BILLING,
            (_p("operation", required=True), _p("invoice_unit_arn"), _p("names", "strs"),
             _p("invoice_receivers", "strs"), _p("accounts", "strs"), _p("bill_source_accounts", "strs"),
             _p("account_ids", "strs"), _p("as_of"), *_PAGE),
            "invoice units are AWS Invoicing configuration, not billing data.", _NEEDS_AWS),
    Refused("invoicing", _BILLING,
            (_p("operation", required=True), _p("account_id"), _p("invoice_id"), _p("billing_period"),
             _p("start_date"), _p("end_date"), _p("invoicing_entity"), *_PAGE),
            "invoices are issued by AWS Invoicing; the store holds the line items, not the invoices.",
            "ask cost_explorer for the billed totals by month (granularity MONTHLY); " + _NEEDS_AWS),
    Refused("procurement-preferences", _BILLING,
            (_p("operation", required=True), _p("procurement_portal_preference_arn"), *_PAGE),
            "procurement portal preferences are AWS account settings, not billing data.", _NEEDS_AWS),
    Refused("sp-explorer", _BILLING,
            (_p("operation", required=True), _p("savings_plan_arns", "strs"), _p("savings_plan_ids", "strs"),
             _p("states", "strs"), _p("savings_plan_id"), _p("offering_ids", "strs"), _p("payment_options", "strs"),
             _p("plan_types", "strs"), _p("product_type"), _p("products", "strs"), _p("durations", "strs"),
             _p("currencies", "strs"), _p("descriptions", "strs"), _p("service_codes", "strs"),
             _p("usage_types", "strs"), _p("operations", "strs"), _p("filters", "obj"), *_PAGE),
            "Savings Plans inventory and offering rates come from the savingsplans API, which is not collected.",
            "ask sp-performance for the utilization and coverage of the Savings Plans the bill charges; "
            + _NEEDS_AWS),
    Refused("sp-purchase-analyzer", _BILLING,
            (_p("operation", required=True), _p("analysis_type"), _p("savings_plans_to_add", "obj"),
             _p("savings_plans_to_exclude", "strs"), _p("look_back_start"), _p("look_back_end"),
             _p("savings_plans_target_coverage", "int"), _p("account_scope"), _p("account_id"), _p("analysis_id"),
             _p("analysis_ids", "strs"), _p("analysis_status"), _p("next_page_token"), _p("page_size", "int"),
             _p("max_pages", "int")),
            "commitment purchase analyses run in Cost Explorer (one starts a paid analysis); aifinops is read-only.",
            "run `aifinops simulate savings-plan` for a what-if from the store's usage; " + _NEEDS_AWS),
    Refused("sp-recommendation", _BILLING,
            (_p("operation", required=True), _p("savings_plans_type"), _p("term_in_years"), _p("payment_option"),
             _p("lookback_period_in_days"), _p("account_scope"), _p("filter", "obj"),
             _p("recommendation_detail_id"), _p("generation_status"), _p("recommendation_ids", "strs"),
             _p("next_page_token"), _p("page_size", "int"), _p("max_pages", "int")),
            "Savings Plans purchase recommendations are computed by Cost Explorer in AWS and are not collected.",
            "run `aifinops simulate savings-plan`, or ask find_waste with check sagemaker-savings-plan; "
            + _NEEDS_AWS),
    Refused("storage-lens", _BILLING,
            (_p("query", required=True), _p("manifest_location"), _p("output_location"), _p("database_name"),
             _p("table_name")),
            "S3 Storage Lens exports are queried with Athena in AWS; the store holds no Storage Lens metrics.",
            'ask cost_explorer with filter {"Dimensions": {"Key": "WORKLOAD", "Values": ["storage"]}} for AI '
            "storage costs; " + _NEEDS_AWS),
    Refused("session-sql", _BILLING,
            (_p("query", required=True), _p("schema", "strs"), _p("data", "obj"), _p("table_name")),
            "this server offloads nothing to a session database: answers come inline, paged with next_token.",
            "repeat the call with next_token (or NextPageToken) for the next page."),
    # ---------------------------------------------------------------- aws-pricing
    Refused("get_price_list_urls", _PRICING,
            (_p("service_code", required=True), _p("region", required=True), _p("effective_date")),
            "bulk Price List file URLs point at AWS's price files; the store has a dated price snapshot instead.",
            "ask get_pricing for the snapshot's prices, or run `aifinops pricing refresh` to rebuild it."),
    Refused("analyze_cdk_project", _PRICING, (_p("project_path", required=True),),
            "infrastructure code is not analysed: aifinops prices what the bill and inventory show.",
            "ask find_waste or ai_cost_overview; use the AWS Labs pricing server for project files."),
    Refused("analyze_terraform_project", _PRICING, (_p("project_path", required=True),),
            "infrastructure code is not analysed: aifinops prices what the bill and inventory show.",
            "ask find_waste or ai_cost_overview; use the AWS Labs pricing server for project files."),
    Refused("generate_cost_report", _PRICING,
            (_p("pricing_data", "obj", required=True), _p("service_name", required=True),
             _p("related_services", "strs"), _p("pricing_model"), _p("assumptions", "strs"),
             _p("exclusions", "strs"), _p("output_file"), _p("format"), _p("detailed_cost_data", "obj"),
             _p("recommendations", "obj")),
            "this server writes no files.",
            "run `aifinops report --html report.html` for a report of the store, or ask ai_cost_overview."),
    Refused("get_bedrock_patterns", _PRICING, (),
            "the architecture pattern text of the AWS Labs pricing server is not bundled.",
            "ask bedrock_cost_levers for your traffic (batch, caching, provisioned throughput, a cheaper model), or "
            "use the prompt what_would_it_save."),
    # ---------------------------------------------------------------- cloudwatch
    Refused("get_recommended_metric_alarms", _CW,
            (_p("namespace", required=True), _p("metric_name", required=True), _p("dimensions", "obj"), *_AWS_CREDS,
             _p("statistic")),
            "alarm recommendations come from the AWS Labs server's bundled catalogue and live analysis, "
            "not from the store.",
            "run `aifinops alerts` for the alerts aifinops derives from the store (idle endpoints, low GPU use, "
            "budgets), or ask describe_alarms for the alarms collected."),
    Refused("analyze_metric", _CW,
            (_p("namespace", required=True), _p("metric_name", required=True), _p("dimensions", "obj"), *_AWS_CREDS,
             _p("statistic")),
            "seasonality and trend analysis of one metric is not offered.",
            "ask get_metric_statistics for the datapoints, or detect_anomalies for spend anomalies with causes."),
    Refused("get_alarm_history", _CW,
            (_p("alarm_name", required=True), _p("start_time"), _p("end_time"), _p("history_item_type"),
             _p("max_items", "int"), _p("include_component_alarms", "bool"), *_AWS_CREDS),
            "alarm history is not collected: the store holds each alarm's current state only.",
            "ask describe_alarms (or get_active_alarms) for the alarms and their current state; use the AWS Labs "
            "cloudwatch server against AWS for history."),
    Refused("describe_log_groups", _CW,
            (_p("account_identifiers", "strs"), _p("include_linked_accounts", "bool"), _p("log_group_class"),
             _p("log_group_name_prefix"), _p("max_items", "int"), *_AWS_CREDS), _LOGS, _LOGS_FIX),
    Refused("analyze_log_group", _CW,
            (_p("log_group_arn", required=True), _p("start_time", required=True), _p("end_time", required=True),
             *_AWS_CREDS), _LOGS, _LOGS_FIX),
    Refused("execute_log_insights_query", _CW,
            (_p("log_group_names", "strs"), _p("log_group_identifiers", "strs"), _p("start_time", required=True),
             _p("end_time", required=True), _p("query_string", required=True), _p("limit", "int"),
             _p("max_timeout", "int"), *_AWS_CREDS), _LOGS, _LOGS_FIX),
    Refused("get_logs_insight_query_results", _CW, (_p("query_id", required=True), *_AWS_CREDS), _LOGS, _LOGS_FIX),
    Refused("cancel_logs_insight_query", _CW, (_p("query_id", required=True), *_AWS_CREDS), _LOGS, _LOGS_FIX),
    Refused("execute_promql_query", _CW, (_p("query", required=True), _p("time"), *_AWS_CREDS), _PROMQL, _PROMQL_FIX),
    Refused("execute_promql_range_query", _CW,
            (_p("query", required=True), _p("start", required=True), _p("end", required=True),
             _p("step", required=True), *_AWS_CREDS), _PROMQL, _PROMQL_FIX),
    Refused("get_promql_label_values", _CW,
            (_p("label_name", required=True), _p("match", "strs"), _p("start"), _p("end"), *_AWS_CREDS),
            _PROMQL, _PROMQL_FIX),
    Refused("get_promql_series", _CW,
            (_p("match", "strs", required=True), _p("start"), _p("end"), *_AWS_CREDS), _PROMQL, _PROMQL_FIX),
    Refused("get_promql_labels", _CW, (_p("match", "strs"), _p("start"), _p("end"), *_AWS_CREDS),
            _PROMQL, _PROMQL_FIX),
)

# Names assistants write for the AWS Labs tools (the guide's underscores, a plural) → the tool's name.
ALIASES = {
    "cost_comparison": "cost-comparison", "cost_optimization": "cost-optimization", "rec_details": "rec-details",
    "compute_optimizer": "compute-optimizer", "free_tier_usage": "free-tier-usage",
    "ri_performance": "ri-performance", "sp_performance": "sp-performance", "sp_recommendations": "sp-recommendation",
    "sp_recommendation": "sp-recommendation", "storage_lens": "storage-lens", "session_sql": "session-sql",
    "budget_actions": "budget-actions", "budget_notifications": "budget-notifications",
    "bcm_pricing_calc": "bcm-pricing-calc", "aws_pricing": "aws-pricing",
}
