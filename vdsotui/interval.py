"""The refresh interval: one rule for the command line and the console's dialog."""

from __future__ import annotations

import math

MIN_INTERVAL = 0.2  # below this a scan of a few thousand processes never rests
MAX_INTERVAL = 3600.0


def parse_interval(text: str) -> float:
    """Seconds between scans from `text`; ValueError with a one-line reason."""
    try:
        value = float(text.strip())
    except ValueError:
        raise ValueError(f"{text.strip()!r} is not a number of seconds") from None
    # float() accepts "nan" and "inf"; neither is an interval, and NaN
    # compares false against both bounds.
    if not math.isfinite(value) or not MIN_INTERVAL <= value <= MAX_INTERVAL:
        raise ValueError(f"the interval must be between {MIN_INTERVAL:g} and {MAX_INTERVAL:g} s")
    return value
