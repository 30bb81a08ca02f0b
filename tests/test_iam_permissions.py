"""The permissions the checks declare, the operations the code makes, and `aifinops iam-policy` agree (issue 13).

- Every IAM permission a check declares (docs/checks.md shows them) is one the generated policy grants, and it
  belongs to an operation the collection code really makes: a check must not promise a permission nothing uses.
- Every operation the code names (collection, live budgets, pricing refresh) is allowlisted, so the policy,
  which is generated from the allowlist, covers it; and every allowlisted operation is made somewhere.
Operations are read from the source with ``ast``: the string pairs ("service", "Operation") the collectors pass
to their call helpers, and the boto3 method names the pricing refresh calls.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from aifinops.aws.iam import IAM_ACTION_OVERRIDES, iam_actions
from aifinops.aws.session import READ_OPERATIONS
from aifinops.checks.base import REGISTRY

SRC = Path(__file__).parent.parent / "src" / "aifinops"
CALLERS = [*sorted((SRC / "aws").glob("*.py")), SRC / "pricing" / "refresh.py"]
OPERATION = re.compile(r"^[A-Z][A-Za-z0-9]+$")


def _camel(snake: str) -> str:
    return "".join(part.capitalize() for part in snake.split("_"))


def operations_in_code() -> set[tuple[str, str]]:
    """(service, Operation) pairs the code makes: literal pairs, operation tables, and boto3 method calls."""
    known = {(svc, op) for svc, ops in READ_OPERATIONS.items() for op in ops}
    names = {op for _, op in known}
    found: set[tuple[str, str]] = set()
    strings: set[str] = set()
    for path in CALLERS:
        if path.name == "session.py":  # the allowlist itself names every operation
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and OPERATION.match(node.value):
                strings.add(node.value)
            elif isinstance(node, ast.Attribute) and _camel(node.attr) in names:
                strings.add(_camel(node.attr))  # client.get_products(...)
    for service, operation in known:
        if operation in strings:
            found.add((service, operation))
    return found


def _operation_of(permission: str) -> tuple[str, str]:
    for (service, operation), action in IAM_ACTION_OVERRIDES.items():
        if action == permission:
            return service, operation
    service, _, action = permission.partition(":")
    return service, action


def test_every_declared_permission_is_granted_and_used():
    granted = set(iam_actions())
    made = operations_in_code()
    wrong = []
    for check_id, cls in sorted(REGISTRY.items()):
        for permission in cls.iam_permissions:
            if permission not in granted:
                wrong.append(f"{check_id}: {permission} is not in the generated policy")
            elif _operation_of(permission) not in made:
                wrong.append(f"{check_id}: {permission} is granted but no collection code makes its operation")
    assert not wrong, "\n".join(wrong)


def test_every_allowlisted_operation_is_made_and_every_made_one_allowlisted():
    allowlisted = {(svc, op) for svc, ops in READ_OPERATIONS.items() for op in ops}
    made = operations_in_code()
    unused = sorted(allowlisted - made - {("sts", "AssumeRole")})  # AssumeRole goes through boto3's own session
    assert not unused, f"allowlisted but never made (drop them from the policy): {unused}"
    assert made <= allowlisted


def test_the_scanner_finds_what_it_should():
    made = operations_in_code()
    assert ("sagemaker", "DescribeEndpoint") in made  # a literal pair in aws/inventory.py
    assert ("pricing", "GetProducts") in made  # client.get_products(...) in pricing/refresh.py
    assert _operation_of("s3:ListAllMyBuckets") == ("s3", "ListBuckets")
