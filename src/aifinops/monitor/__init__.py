"""Monitoring over the store: spend anomalies with root causes, forecasts, budgets and alert rules.

- ``anomalies``: ``detect_anomalies``, ``get_anomalies`` (Cost Explorer GetAnomalies shape)
- ``forecast``: ``forecast_spend``, ``get_cost_forecast`` (GetCostForecast shape)
- ``budgets``: ``evaluate_budgets``, ``describe_budgets`` (Budgets DescribeBudgets shape)
- ``alerts``: ``evaluate_alerts``, ``slack_payload``, ``post_webhook``
"""
