"""Go's ``%g``/``%v`` float formatting, which the reference engine's outputs show.

Shortest round-trip digits; exponent form when the decimal exponent is below
-4 or at least 6 (strconv uses precision 6 for that decision when shortest),
with a signed, at-least-two-digit exponent: ``1.2345675e+06``, ``1e-05``.
"""

from __future__ import annotations

import decimal
import math

__all__ = ["format_go_g", "format_go_number"]


def format_go_g(value: float) -> str:
    """Format a float as Go's ``fmt.Sprintf("%g", value)`` does."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == 0:
        return "-0" if math.copysign(1.0, value) < 0 else "0"
    parts = decimal.Decimal(repr(value)).normalize().as_tuple()
    digits = "".join(str(d) for d in parts.digits)
    exponent = int(parts.exponent) + len(digits) - 1
    sign = "-" if parts.sign else ""
    if exponent < -4 or exponent >= 6:
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{sign}{mantissa}e{'-' if exponent < 0 else '+'}{abs(exponent):02d}"
    if exponent < 0:
        return f"{sign}0.{'0' * (-exponent - 1)}{digits}"
    if exponent + 1 >= len(digits):
        return f"{sign}{digits}{'0' * (exponent + 1 - len(digits))}"
    return f"{sign}{digits[: exponent + 1]}.{digits[exponent + 1 :]}"


def format_go_number(value: int | float) -> str:
    """Format a number as Go's ``%v`` does for int and float64."""
    if type(value) is int:
        return str(value)
    return format_go_g(float(value))
