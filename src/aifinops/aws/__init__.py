"""Live AWS, read-only: the one client factory, collectors for inventory, metrics and costs.

This package is the only place that imports boto3. Every client comes from
``session.SessionFactory``, which refuses any operation outside ``session.READ_OPERATIONS``.
"""

from aifinops.aws.collect import CollectOptions, CollectResult, Skip, collect
from aifinops.aws.session import READ_OPERATIONS, OperationNotAllowed, SessionFactory

__all__ = [
    "READ_OPERATIONS",
    "CollectOptions",
    "CollectResult",
    "OperationNotAllowed",
    "SessionFactory",
    "Skip",
    "collect",
]
