"""Our own redaction, applied to everything before it reaches a prompt, an issue or a topic.

Card numbers are recognised by the Luhn check (so order ids and timestamps of the same length survive),
IBANs by their ISO 13616 mod-97 check, emails by shape, and the values of fields the environment file marks
as personal wherever they appear as a JSON key, a `key=value` or a `key: value` pair. The Bedrock guardrail
anonymizes again on its side; this step does not rely on it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

CARD = "[REDACTED-CARD]"
EMAIL = "[REDACTED-EMAIL]"
IBAN = "[REDACTED-IBAN]"
PERSONAL = "[REDACTED-PERSONAL]"
# Shorter personal values are not searched for in free text (they would match inside ordinary words).
MIN_REMEMBERED = 3

# 13 to 19 digits (ISO/IEC 7812 primary account numbers), optionally grouped by single spaces or hyphens.
_CARD_CANDIDATE = re.compile(r"(?<![\d])\d(?:[ -]?\d){12,18}(?![\d])")
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
# Country code, check digits, then 11 to 30 alphanumerics, optionally in groups of four.
_IBAN_CANDIDATE = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}\b")


def luhn_valid(digits: str) -> bool:
    """The Luhn (mod 10) check of ISO/IEC 7812-1."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def iban_valid(candidate: str) -> bool:
    """ISO 13616: move the first four characters to the end, letters to numbers (A=10), mod 97 == 1."""
    compact = candidate.replace(" ", "")
    if not 15 <= len(compact) <= 34:
        return False
    rearranged = compact[4:] + compact[:4]
    number = "".join(str(int(ch, 36)) for ch in rearranged)
    return int(number) % 97 == 1


def _card(match: re.Match[str]) -> str:
    digits = re.sub(r"[ -]", "", match.group(0))
    return CARD if 13 <= len(digits) <= 19 and luhn_valid(digits) else match.group(0)


def _iban(match: re.Match[str]) -> str:
    return IBAN if iban_valid(match.group(0)) else match.group(0)


def _field_patterns(fields: Iterable[str]) -> list[re.Pattern[str]]:
    patterns = []
    for name in fields:
        key = re.escape(name)
        # "name": "value" | "name": 123 (JSON), name=value, name: value (log lines).
        patterns.append(re.compile(rf'("{key}"\s*:\s*)("(?:[^"\\]|\\.)*"|[^,}}\]\s]+)'))
        patterns.append(re.compile(rf"(\b{key}\s*[=:]\s*)('[^']*'|\"[^\"]*\"|[^,;&\s]+)"))
    return patterns


def redact_text(text: str, personal_fields: Iterable[str] = ()) -> str:
    """The text with card numbers, IBANs, emails and personal fields' values replaced."""
    for pattern in _field_patterns(personal_fields):
        text = pattern.sub(lambda m: m.group(1) + (f'"{PERSONAL}"' if m.group(2).startswith('"') else PERSONAL), text)
    text = _EMAIL.sub(EMAIL, text)
    text = _IBAN_CANDIDATE.sub(_iban, text)
    return _CARD_CANDIDATE.sub(_card, text)


def redact(value: Any, personal_fields: Iterable[str] = ()) -> Any:
    """A copy of a JSON-like value (dicts, lists, strings, numbers) with personal data replaced: values of
    personal fields entirely, and card numbers, IBANs and emails inside any string or number."""
    fields = frozenset(personal_fields)
    return _redact(value, fields)


def _redact(value: Any, fields: frozenset[str]) -> Any:
    if isinstance(value, dict):
        return {k: (PERSONAL if k in fields else _redact(v, fields)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redact(v, fields) for v in value]
    if isinstance(value, str):
        return redact_text(value, fields)
    if isinstance(value, int) and not isinstance(value, bool):
        text = str(value)
        return CARD if redact_text(text) != text else value
    return value


class Redactor:
    """Redaction for one triage: besides the patterns, it remembers the values of personal fields it has
    seen and removes them wherever they appear later, e.g. a name echoed in free text by the model."""

    def __init__(self, personal_fields: Iterable[str] = ()) -> None:
        self.fields = tuple(personal_fields)
        self._patterns = _field_patterns(self.fields)
        self.seen: set[str] = set()

    def __call__(self, text: str) -> str:
        for pattern in self._patterns:
            for match in pattern.finditer(text):
                value = match.group(2).strip("\"'")
                if len(value) >= MIN_REMEMBERED and value != PERSONAL:
                    self.seen.add(value)
        text = redact_text(text, self.fields)
        for value in sorted(self.seen, key=len, reverse=True):
            text = text.replace(value, PERSONAL)
        return text
