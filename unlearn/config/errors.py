"""The one error type for bad input, importable from every layer (it imports nothing of ours).

A `ConfigError` message is one line: the key, the value as the user typed it, and what
is allowed. `python -m unlearn` prints it and exits with status 2.
"""

from __future__ import annotations


class ConfigError(ValueError):
    """A bad config value; the message is one line: key, value, what is allowed."""


class EnvironmentProblem(ConfigError):
    """Bad input that is the machine's, not the config's: the data is not there, there is
    no GPU, the hub is unreachable. Every job of a sweep would fail alike, so a sweep whose
    first jobs fail with the same one stops (hydra_plugins/unlearn_sweeper)."""


def show(value: object) -> str:
    """A value as the user would type it (a float field holding -2 shows as -2, not -2.0)."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def clip(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters at a word boundary and marked '…' (a
    one-line message never ends mid-word)."""
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0].rstrip(" ,;:(") + "…"
