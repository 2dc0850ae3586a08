"""A field's range, declared once beside its type in a schema dataclass, checked by one walk.

Every field of a structured config (unlearn/schema.py) may carry a `Range` in its
metadata; `value(...)` builds such a field::

    @dataclass
    class SigmaConf:
        tol: float = value(gt=0)                     # finite by default
        mode: str = value(choices=("train", "eval"))

`check_tree(cfg)` walks the composed config, finds each node's dataclass with
``OmegaConf.get_type`` and checks every declared field (list fields element by element),
raising one `ConfigError` line that names the key, the value and what is allowed. Types
are OmegaConf's job (at compose time); ranges, finiteness and choices are this module's.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field, fields, is_dataclass
from typing import Any

from omegaconf import MISSING, DictConfig, ListConfig, OmegaConf

from unlearn.errors import ConfigError, show


@dataclass(frozen=True)
class Range:
    """What a field allows. Bounds apply to numbers; `choices` to anything; None passes
    when `nullable` (the annotation's Optional is the type's side of the same fact)."""

    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    lt: float | None = None
    choices: tuple[Any, ...] | None = None
    finite: bool = True
    nullable: bool = False
    note: str = ""  # appended to the allowed text, e.g. "(null: no checkpoints)"

    def allowed(self) -> str:
        """The allowed set in words, e.g. 'a number > 0 and < 1'."""
        if self.choices is not None:
            text = "one of " + ", ".join(str(c) for c in self.choices)
        else:
            bounds = [
                f"{op} {show(b)}"
                for op, b in ((">=", self.ge), (">", self.gt), ("<=", self.le), ("<", self.lt))
                if b is not None
            ]
            text = "a finite number" if self.finite else "a number"
            if bounds:
                text += " " + " and ".join(bounds)
        if self.nullable:
            text += ", or null"
        return f"{text} {self.note}".rstrip()

    def accepts(self, v: Any) -> bool:
        if v is None:
            return self.nullable
        if self.choices is not None:
            return v in self.choices
        if isinstance(v, bool) or not isinstance(v, int | float):
            return False
        if self.finite and not math.isfinite(v):
            return False
        if math.isnan(v):
            return False
        return not (
            (self.ge is not None and not v >= self.ge)
            or (self.gt is not None and not v > self.gt)
            or (self.le is not None and not v <= self.le)
            or (self.lt is not None and not v < self.lt)
        )


def value(default: Any = MISSING, **range_kwargs: Any) -> Any:
    """A dataclass field with a `Range` (keywords of `Range`) and a default (MISSING: the
    YAML file gives it)."""
    return field(default=default, metadata={"range": Range(**range_kwargs)})


def declared(schema: type) -> Iterator[tuple[str, Range]]:
    """(field name, Range) for each field of `schema` that declares one."""
    if is_dataclass(schema):
        for f in fields(schema):
            if "range" in f.metadata:
                yield f.name, f.metadata["range"]


def check_tree(cfg: DictConfig, prefix: str = "") -> None:
    """Check every declared field of every node under `cfg` (depth first, first error wins)."""
    ranges = dict(declared(OmegaConf.get_type(cfg)))
    for key in cfg:
        full = f"{prefix}{key}"
        node = cfg._get_node(key)
        if node is None or node._is_missing():
            continue
        if isinstance(node, DictConfig):
            if not node._is_none():
                check_tree(node, f"{full}.")
            continue
        rng = ranges.get(str(key))
        if rng is None:
            continue
        v = OmegaConf.to_container(node, resolve=True) if isinstance(node, ListConfig) else None
        items = v if isinstance(v, list) else [cfg[key]]
        for item in items:
            if not rng.accepts(item):
                shown = show(cfg[key]) if not isinstance(v, list) else f"{show(v)} ({show(item)})"
                raise ConfigError(f"{full}={shown}: allowed {rng.allowed()}")
