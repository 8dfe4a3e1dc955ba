"""Logging set-up (loguru). Holds no business logic."""

from __future__ import annotations

import sys

from loguru import logger


def configure(level: str = "INFO", json: bool = False) -> None:
    """Log to stderr, as text or as one JSON object per line (`log_json`)."""
    logger.remove()
    if json:
        logger.add(sys.stderr, level=level.upper(), serialize=True)
    else:
        logger.add(
            sys.stderr,
            level=level.upper(),
            format="<green>{time:YYYY-MM-DD HH:mm:ss}</green> <level>{level: <7}</level> {message}",
        )
