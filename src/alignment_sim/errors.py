"""One error type for bad input, so the CLI can print it as a single paragraph."""

from __future__ import annotations

import difflib
from collections.abc import Sequence


class ConfigError(ValueError):
    """Bad input: names the key, the value given and what was expected.

    Raised before anything runs, by parameter validation, data loading and scenario
    compilation alike.
    """

    def __init__(self, key: str, value: object, expected: str, hint: str = "") -> None:
        self.key = key
        self.value = value
        self.expected = expected
        self.hint = hint
        super().__init__(self.named(f"{key} ="))

    def named(self, name: str) -> str:
        """The message with ``name`` where the key stands (a command-line option, say:
        ``--points 0: expected ...`` for the library's ``points = 0: expected ...``)."""
        message = f"{name} {self.value!r}: expected {self.expected}."
        return f"{message} {self.hint}" if self.hint else message


class DataError(ConfigError):
    """A data file is missing, malformed or lacks a value the world needs."""


def did_you_mean(given: object, known: Sequence[str], cutoff: float = 0.6) -> str:
    """``Did you mean X?`` for the name among ``known`` closest to ``given`` (compared in
    lower case), or "" when none is that close (``difflib``'s ratio, ``cutoff``)."""
    close = difflib.get_close_matches(str(given).lower(), list(known), n=1, cutoff=cutoff)
    return f"Did you mean {close[0]}?" if close else ""
