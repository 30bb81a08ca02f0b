"""The one redaction rule: nothing that looks like a key, token, password or URL credential leaves ``collect``.

``collect`` passes every record (attributes, tags, names), every metric dimension and every skip message
through ``redact`` before anything is written to a snapshot or the store. A string is redacted when

1. **its name suggests a secret** (``secret_name``): the dict key, tag ``Key``, dimension ``Name``, the
   ``NAME=`` of an assignment or the ``--flag`` before it contains pass/passwd/password/pwd, secret,
   token, credential(s)/creds, auth/authorization, api key, bearer, cookie, jwt or dsn, or ends in
   ``key`` (``openai_key``, ``wandbKey``, ``x-api-key``); names that end in id, arn, name, type, mode,
   count, url, path, … (``KmsKeyId``, ``KeyName``, ``SecretArn``, ``HttpTokens``, ``max_tokens``) are not
   secrets. The whole value becomes ``REDACTED``, unless it is a boolean, empty or an ARN;
2. **or its shape is a secret's, whatever its name** (``redact_text``): AWS access key ids
   (``AKIA…``/``ASIA…``), 40-character AWS-secret-like strings, 40-digit hex (W&B keys, classic GitHub
   tokens), JWTs, provider tokens (``sk-…``, ``ghp_…``/``github_pat_…``, ``xox…``, ``hf_…``, ``glpat-…``,
   ``AIza…``, ``npm_…``, ``pypi-…``, Stripe ``sk_live_…``), ``Bearer``/``Basic`` credentials, and random
   strings of 24 characters or more (mixed case and digits in short runs, or letters and digits
   alternating). Only the matched part becomes ``REDACTED``; URL credentials become
   ``scheme://***@host``; ``--api-key VALUE``, ``--password=VALUE`` and ``TOKEN=VALUE`` keep their name.

Two kinds of values are never kept at all: environment variables (every value of an ``Environment``
map) and notebook lifecycle scripts (``OnCreate``/``OnStart``, kept as their length and SHA-256).
Ordinary values keep every byte: ARNs, S3 URIs, instance types, image URIs and digests, model ids,
UUIDs, job names, dates. The rule is deterministic, so a name redacted in one place is redacted the same
way everywhere it appears.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import Counter
from functools import lru_cache
from typing import Any

REDACTED = "REDACTED"
ENVIRONMENT_KEYS = frozenset({"Environment"})
SCRIPT_KEYS = frozenset({"OnCreate", "OnStart"})

# --- names --------------------------------------------------------------------------------------------
_SECRET_WORDS = re.compile(
    r"^(?:.*passw.*|.*pass|pwd.*|.*pwd|.*secret.*|.*token|.*credentials?|creds|o?auth|authorization|bearer|cookie"
    r"|jwt|dsn)$"
)
_NOT_SECRET_WORDS = frozenset({"bypass", "compass", "passthrough", "monkey", "hotkey", "turkey", "whiskey"})
# "<word> key" that names a lookup key, not a credential (TagKey, SortKey, S3Key, KmsKey, …)
_INNOCENT_KEY_PREFIX = frozenset(
    "tag sort partition primary foreign object s3 kms cache group dimension metric idempotency label hash range "
    "join lookup dict map index row column".split()
)
# A name ending in one of these words names or describes a secret, it does not hold one.
_DESCRIPTIVE_LAST = frozenset(
    "id ids arn arns name names type types mode modes count length size version status enabled url uri "
    "endpoint path file location prefix format policy config configuration expiry expiration ttl duration "
    "seconds algorithm keys".split()
)


def _words(name: str) -> list[str]:
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1 \2", name))
    return [w for w in re.split(r"[^A-Za-z0-9]+", spaced.lower()) if w]


@lru_cache(maxsize=1 << 16)  # names repeat across records: Key, Value, InstanceType, …
def secret_name(name: object) -> bool:
    """Whether a key, tag, variable or flag name suggests that its value is a secret."""
    if not isinstance(name, str):
        return False
    words = _words(name)
    if not words or words[-1] in _DESCRIPTIVE_LAST or words == ["key"]:
        return False
    if any(_SECRET_WORDS.match(w) and w not in _NOT_SECRET_WORDS for w in words):
        return True
    last = words[-1]  # openai_key, wandbKey, x-api-key, apikey, access_key, private_key
    if not last.endswith("key") or last in _NOT_SECRET_WORDS:
        return False
    return last != "key" or words[-2] not in _INNOCENT_KEY_PREFIX


# --- shapes -------------------------------------------------------------------------------------------
_URL_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://)[^/\s?#@'\"]+@")
_AWS_KEY_ID = re.compile(r"(?<![A-Z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])")
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*")
_PREFIXED = re.compile(
    r"(?<![A-Za-z0-9])(?:sk-(?:proj-|ant-[a-z]+\d*-|svcacct-|admin-)?|sk_live_|sk_test_|rk_live_|gh[pousr]_"
    r"|github_pat_|glpat-|hf_|xox[abposr]-|npm_|pypi-|AIza|r8_|SG\.)([A-Za-z0-9_\-.]{16,})"
)
_AUTH_SCHEME = re.compile(r"(?i)\b(bearer|basic)(\s+)([A-Za-z0-9._~+/=-]{8,})")
_HEX40 = re.compile(r"(?<![A-Za-z0-9:])[0-9a-fA-F]{40}(?![A-Za-z0-9])")
_CANDIDATE = re.compile(r"(?<![A-Za-z0-9+/_-])[A-Za-z0-9+/_-]{24,}={0,2}(?![A-Za-z0-9+/=_-])")
# NAME=VALUE (environment lines, query strings); NAME: VALUE to the end of the line (YAML, HTTP headers);
# "NAME": "VALUE" (JSON inside a string)
_ASSIGNMENT = re.compile(r"""(?<![\w.])([A-Za-z_][\w.-]*)(["']?\s*=\s*)("[^"]*"|'[^']*'|[^\s"'&;,}\]]+)""")
_COLON_ASSIGNMENT = re.compile(
    r"""(?<![\w.])([A-Za-z_][\w.-]*)(["']:[ \t]*|:[ \t]+)("[^"]*"|'[^']*'|[^\s"'][^\n"',}\]]*)"""
)
# --flag VALUE inside a command line
_FLAG_VALUE = re.compile(r"""(?<!\S)(--?[A-Za-z][\w-]*)(\s+)("[^"]*"|'[^']*'|[^\s"'-][^\s"']*)""")


def _classes(text: str) -> tuple[bool, bool, bool]:
    return any(c.isupper() for c in text), any(c.islower() for c in text), any(c.isdigit() for c in text)


def _entropy(text: str) -> float:
    counts = Counter(text)
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())


def _mean_run(text: str) -> float:
    """Mean length of runs of one character class: ~1.5 for random base64, 3 or more for words."""
    kinds = ["u" if c.isupper() else "l" if c.islower() else "d" if c.isdigit() else "o" for c in text]
    runs = 1 + sum(1 for a, b in zip(kinds, kinds[1:], strict=False) if a != b)
    return len(text) / runs


def random_looking(token: str) -> bool:
    """A high-entropy string of 24+ characters: a key, not a name, path, date, UUID or digest."""
    if len(token) < 24 or _entropy(token) < 3.5:
        return False
    upper, lower, digit = _classes(token)
    if upper and lower and digit:
        if _word_path(token):
            return False
        return _mean_run(token) <= 2.0
    if re.fullmatch(r"[0-9a-fA-F]+", token) or re.search(r"[/_=+-]", token):
        return False  # hex digests and UUIDs; separated lowercase words and dates
    return digit and (upper != lower) and _mean_run(token) <= 1.7


def _word_path(token: str) -> bool:
    """A path of three or more short parts ('endpoint/autoscaled-3c0b4/variant/AllTraffic'): a name, even when
    one part looks random. Random base64 has a '/' in one character of 64, so rarely three short parts."""
    parts = token.split("/")
    return len(parts) >= 3 and all(0 < len(part) < 16 for part in parts)


def _aws_secret_like(token: str) -> bool:
    upper, lower, digit = _classes(token)
    return len(token) == 40 and upper and lower and (digit or "/" in token or "+" in token) \
        and "//" not in token and _mean_run(token) <= 2.5


def _token_body(body: str) -> bool:
    """A provider token's body holds a random run of 16+ characters (not ``hf_transformers_cache``)."""
    for part in re.split(r"[_.-]", body):
        upper, lower, digit = _classes(part)
        if len(part) >= 16 and (upper + lower + digit) >= 2:
            return True
    return False


def _credential_like(text: str) -> bool:
    """After ``Bearer``/``Basic``: a credential, not a word of prose."""
    upper, lower, digit = _classes(text)
    return digit or (upper and lower) or any(c in text for c in "=+/._~")


def _named_values(pattern: re.Pattern, text: str) -> str:
    """Values after secret names redacted; a value after an innocent name is searched in turn
    (``"markdown": "ask for the token: VALUE"``)."""
    out, kept, start = [], 0, 0
    while match := pattern.search(text, start):
        if secret_name(match.group(1)):
            out += [text[kept:match.start(3)], _value(match, 3)]
            kept = start = match.end(3)
        else:
            start = match.end(2)
    return "".join(out) + text[kept:]


def _value(match: re.Match, group: int) -> str:
    """The replacement for a quoted or bare value: quotes kept."""
    text = match.group(group)
    return f"{text[0]}{REDACTED}{text[0]}" if text[:1] in ("'", '"') else REDACTED


@lru_cache(maxsize=1 << 16)  # so do values: regions, ARNs, instance types
def redact_text(text: str) -> str:
    """``text`` with every secret-shaped part replaced (rule 2 of the module docstring)."""
    if len(text) < 5:
        return text
    text = _URL_USERINFO.sub(r"\1***@", text)
    text = _AUTH_SCHEME.sub(lambda m: m.group(1) + m.group(2) + REDACTED if _credential_like(m.group(3))
                            else m.group(0), text)
    for pattern in (_ASSIGNMENT, _COLON_ASSIGNMENT, _FLAG_VALUE):
        text = _named_values(pattern, text)
    text = _PREFIXED.sub(lambda m: REDACTED if _token_body(m.group(1)) else m.group(0), text)
    for pattern in (_AWS_KEY_ID, _JWT, _HEX40):
        text = pattern.sub(REDACTED, text)
    return _CANDIDATE.sub(lambda m: REDACTED if _secret_candidate(m.group(0)) else m.group(0), text)


def _secret_candidate(run: str) -> bool:
    """A run of base64(url) characters that is, or holds between ``-``/``_``, a random string."""
    parts = [run, *(p for p in re.split(r"[-_]", run) if len(p) >= 24 and p != run)]
    return any(random_looking(p) or _aws_secret_like(p) for p in parts)


# --- structures ---------------------------------------------------------------------------------------
def _kept_under_secret_name(value: str) -> bool:
    return value.strip().lower() in ("", "true", "false") or (value.startswith("arn:") and redact_text(value) == value)


def _all_secret(value: Any) -> Any:
    """A value under a secret name: every string redacted (booleans, empty strings and ARNs kept)."""
    if isinstance(value, str):
        return value if _kept_under_secret_name(value) else REDACTED
    if isinstance(value, dict):
        return {k: _all_secret(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_all_secret(v) for v in value]
    return value  # numbers, booleans, None


def _pair_name(d: dict) -> str | None:
    """The name of a ``{"Key"|"Name": n, "Value": v}`` pair (tags, dimensions, name/value lists)."""
    if "Value" in d:
        name = d.get("Key", d.get("Name"))
        return name if isinstance(name, str) else None
    if "value" in d:
        name = d.get("key", d.get("name"))
        return name if isinstance(name, str) else None
    return None


def redact_args(args: list[str]) -> list[str]:
    """An argument list: the value after ``--secret-flag`` and after ``--secret-flag=``, then every shape."""
    out = []
    after_secret_flag = False
    for arg in args:
        if after_secret_flag and not arg.startswith("-"):
            out.append(REDACTED)
        elif arg.startswith("-") and "=" in arg and secret_name(arg.split("=", 1)[0]):
            out.append(arg.split("=", 1)[0] + "=" + REDACTED)
        else:
            out.append(redact_text(arg))
        after_secret_flag = arg.startswith("-") and "=" not in arg and secret_name(arg)
    return out


def _script_digests(scripts: list) -> list:
    """Lifecycle scripts (tokens get pasted into them) as their length and SHA-256 only."""
    return [
        {"ContentLength": len(str(s["Content"])),
         "ContentSha256": hashlib.sha256(str(s["Content"]).encode()).hexdigest()}
        if isinstance(s, dict) and "Content" in s else redact(s)
        for s in scripts
    ]


def redact(value: Any) -> Any:
    """``value`` (a JSON-like response, record or list) with the rule applied everywhere; a new object."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, list):
        if value and all(isinstance(v, str) for v in value) and any(v.startswith("-") for v in value):
            return redact_args(value)
        return [redact(v) for v in value]
    if not isinstance(value, dict):
        return value
    pair = _pair_name(value)
    out: dict = {}
    for key, item in value.items():
        name = pair if pair is not None and key in ("Value", "value") else key
        if key in SCRIPT_KEYS and isinstance(item, list):
            item = _script_digests(item)
        elif key in ENVIRONMENT_KEYS and isinstance(item, dict):
            item = {redact_text(k): REDACTED for k in item}
        elif secret_name(name):
            item = _all_secret(item)
        else:
            item = redact(item)
        out[redact_text(key) if isinstance(key, str) else key] = item
    return out
