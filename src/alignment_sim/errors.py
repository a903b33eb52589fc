"""One error type for bad input, so the CLI can print it as a single paragraph."""

from __future__ import annotations


class ConfigError(ValueError):
    """Bad input: names the key, the value given and what was expected.

    Raised before anything runs, by parameter validation, data loading and scenario
    compilation alike.
    """

    def __init__(self, key: str, value: object, expected: str, hint: str = "") -> None:
        self.key = key
        self.value = value
        self.expected = expected
        message = f"{key} = {value!r}: expected {expected}."
        if hint:
            message += f" {hint}"
        super().__init__(message)


class DataError(ConfigError):
    """A data file is missing, malformed or lacks a value the world needs."""
