"""Text as people type it, made safe to keep: control characters (other than tab and newline) removed.

A vertical tab pasted from a Word document is invisible on a page but breaks XML-based exports (.xlsx refuses
it) and some clients; nothing a person means is lost by dropping it.
"""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Spreadsheet tools run a cell that starts like this as a formula (OWASP "CSV injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def strip_controls(value: str) -> str:
    """`value` without C0 control characters (tab, newline and carriage return stay) and DEL."""
    return _CONTROL.sub("", value)


def spreadsheet_text(value: str) -> str:
    """Text for a spreadsheet cell: no control characters, and a leading ' when it would start a formula."""
    value = strip_controls(value)
    return "'" + value if value.startswith(FORMULA_START) else value
