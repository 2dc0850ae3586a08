"""A field's range, declared once beside its type in a schema dataclass, checked by one walk.

Every field of a structured config (unlearn/config/schema.py) may carry a `Range` in its
metadata; `value(...)` builds such a field::

    @dataclass
    class SigmaConf:
        tol: float = value(gt=0)                     # finite by default
        mode: str = value(choices=("train", "eval"))

Rules between fields of one node (exactly one of N / N_epochs, ...) are `Rule`s in the
dataclass's ``RULES`` class attribute (a ClassVar, so OmegaConf does not see it)::

    RULES: ClassVar[tuple[Rule, ...]] = (one_of("N", "N_epochs"),)

`check_tree(cfg)` walks the composed config, finds each node's dataclass with
``OmegaConf.get_type`` and checks every declared field (list fields element by element),
then every rule, raising one `ConfigError` line that names the key, the value and what
is allowed. Plain values are checked before interpolated ones (``optimizer.lr: ${lr}``),
so a bad ``lr=inf`` is reported as ``lr``, where the user typed it. Any other exception
while checking a key (a value that does not resolve, ...) is one line naming that key.
Types are OmegaConf's job (at compose time); ranges, finiteness and choices are this
module's.
"""

from __future__ import annotations

import functools
import math
import typing
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, fields, is_dataclass, replace
from typing import Any

from omegaconf import MISSING, DictConfig, ListConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from unlearn.config.errors import ConfigError, show

# A ceiling for step counts (N, t, every-k knobs): 10^8 steps is weeks of GPU time for the
# paper's models; a larger value is a typo that would train until killed.
MAX_STEPS = 10**8
MAX_EPOCHS = 10**5
SEED_LIMIT = 2**32  # NumPy's and Python's seeds must be < 2^32
# A step size torch can hand to a float32 parameter update (``param.add_(g, alpha=-η)``);
# beyond it the step itself overflows (a traceback), below it a huge η diverges (a status).
MAX_LR = 3.4028234663852886e38


@dataclass(frozen=True)
class Range:
    """What a field allows. Bounds apply to numbers; `choices` to anything; None passes
    when `nullable` (the annotation's Optional is the type's side of the same fact).

    `also`: values accepted besides the numbers (e.g. ``"auto"`` for progress.bar);
    `integer`: a number must be whole (for fields typed ``Any``); `nonempty`: a string
    must not be empty or blank (paths)."""

    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    lt: float | None = None
    choices: tuple[Any, ...] | None = None
    finite: bool = True
    nullable: bool = False
    note: str = ""  # appended to the allowed text, e.g. "(null: no checkpoints)"
    also: tuple[Any, ...] = ()
    integer: bool = False
    nonempty: bool = False
    items: Range | None = None  # the range of a list's elements, when not this one
    list_length: int | None = None  # a list must have exactly this many items

    def allowed(self) -> str:
        """The allowed set in words, e.g. 'a number > 0 and < 1'."""
        if self.choices is not None and set(self.choices) == {True, False}:
            text = "true or false"
        elif self.choices is not None:
            words = list(dict.fromkeys(_word(c) for c in self.choices))
            text = words[0] if len(words) == 1 else "one of " + ", ".join(words)
        elif self.nonempty:
            text = "a non-empty string"
        else:
            bounds = [
                f"{op} {show(b)}"
                for op, b in ((">=", self.ge), (">", self.gt), ("<=", self.le), ("<", self.lt))
                if b is not None
            ]
            text = "a finite number" if self.finite else "a number"
            text = "an integer" if self.integer else text
            if bounds:
                text += " " + " and ".join(bounds)
        if self.also:
            text += ", or " + ", ".join(str(a) for a in self.also)
        if self.items is not None and self.list_length == 1:
            text += f", or a list of one item, {self.items.allowed()}"
        elif self.items is not None:
            text += f", or a list of items each {self.items.allowed()}"
        if self.nullable:
            text += ", or null"
        return f"{text} {self.note}".rstrip()

    def accepts(self, v: Any) -> bool:
        if v is None:
            return self.nullable
        if any(v == a and type(v) is type(a) for a in self.also):
            return True
        if self.choices is not None:
            return any(v == c and isinstance(v, bool) == isinstance(c, bool) for c in self.choices)
        if isinstance(v, str):
            return bool(v.strip()) if self.nonempty else not self._numeric()
        if isinstance(v, bool) or not isinstance(v, int | float):
            return False
        if math.isnan(v) or (self.finite and not math.isfinite(v)):
            return False
        if self.integer and not float(v).is_integer():
            return False
        return not (
            (self.ge is not None and not v >= self.ge)
            or (self.gt is not None and not v > self.gt)
            or (self.le is not None and not v <= self.le)
            or (self.lt is not None and not v < self.lt)
        )

    def _numeric(self) -> bool:
        return any(b is not None for b in (self.ge, self.gt, self.le, self.lt)) or self.integer


def _word(choice: Any) -> str:
    """A choice as it is typed: true/false for booleans."""
    return str(choice).lower() if isinstance(choice, bool) else str(choice)


def flag(default: Any = MISSING, **kwargs: Any) -> Any:
    """A boolean field: true or false, nothing else.

    Annotate it ``Any``, not ``bool``: OmegaConf converts whatever reaches a ``bool``
    node (``2``, ``"yes"``, ``"on"`` become True) before any check could see it, so
    ``sigma.warm_start=2`` would run as true. Kept as typed, the walk refuses it."""
    return value(default, choices=(True, False), **kwargs)


def value(default: Any = MISSING, **range_kwargs: Any) -> Any:
    """A dataclass field with a `Range` (keywords of `Range`) and a default (MISSING: the
    YAML file gives it)."""
    return field(default=default, metadata={"range": Range(**range_kwargs)})


def seed_value(default: Any = MISSING, **kwargs: Any) -> Any:
    """A seed field: an integer in [0, 2^32)."""
    return value(default, ge=0, lt=SEED_LIMIT, **kwargs)


def step_count(default: Any = MISSING, ge: int = 1, **kwargs: Any) -> Any:
    """A step count: an integer from `ge` up to `MAX_STEPS`."""
    return value(default, ge=ge, le=MAX_STEPS, **kwargs)


def probability(default: Any = MISSING, **kwargs: Any) -> Any:
    """A share or a probability in [0, 1) (dropout, momentum)."""
    return value(default, ge=0, lt=1, **kwargs)


@dataclass(frozen=True)
class Rule:
    """A condition between fields of one node: `test(node)` must hold, else one line.

    `message(node, prefix)` says what was found; `allowed` what is allowed."""

    test: Callable[[DictConfig], bool]
    message: Callable[[DictConfig, str], str]
    allowed: str

    def check(self, node: DictConfig, prefix: str = "") -> None:
        if not self.test(node):
            raise ConfigError(f"{self.message(node, prefix)}: allowed {self.allowed}")


def one_of(a: str, b: str, what: str) -> Rule:
    """Exactly one of fields `a` and `b` is set (the other null)."""

    def message(node: DictConfig, prefix: str) -> str:
        x, y = node.get(a), node.get(b)
        if x is None:
            return f"{prefix}{a} and {prefix}{b} are both null"
        return f"{prefix}{a}={show(x)} and {prefix}{b}={show(y)} are both set"

    return Rule(
        test=lambda node: (node.get(a) is None) != (node.get(b) is None),
        message=message,
        allowed=f"one of them ({what})",
    )


def declared(schema: type) -> Iterator[tuple[str, Range]]:
    """(field name, Range) for each field of `schema` that declares one; a field typed
    int (or Optional[int], list[int]) gets ``integer=True``, for the allowed text."""
    if is_dataclass(schema):
        hints = _hints(schema)
        for f in fields(schema):
            if "range" in f.metadata:
                rng = f.metadata["range"]
                if _base(hints.get(f.name)) is int and not rng.integer:
                    rng = replace(rng, integer=True)
                yield f.name, rng


@functools.cache
def _hints(schema: type) -> dict[str, Any]:
    return typing.get_type_hints(schema)


def _base(annotation: Any) -> Any:
    """int for int, Optional[int] and list[int]; the annotation itself otherwise."""
    if typing.get_origin(annotation) not in (typing.Union, list):
        return annotation
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    return _base(args[0]) if len(args) == 1 else annotation


def rules(schema: type) -> tuple[Rule, ...]:
    """The `Rule`s a schema dataclass declares (its ``RULES``)."""
    return tuple(getattr(schema, "RULES", ()) or ())


def _one_line(err: BaseException) -> str:
    return " ".join(str(err).split("\n")[0].split())[:160]


def _check_leaf(cfg: DictConfig, key: str, full: str, rng: Range) -> None:
    node = cfg._get_node(key)
    v = OmegaConf.to_container(node, resolve=True) if isinstance(node, ListConfig) else None
    items = v if isinstance(v, list) else [cfg[key]]
    each = rng.items if isinstance(v, list) and rng.items is not None else rng
    if isinstance(v, list) and rng.list_length is not None and len(v) != rng.list_length:
        raise ConfigError(f"{full}={show(v)}: allowed {rng.allowed()}")
    for item in items:
        if not each.accepts(item):
            shown = show(cfg[key]) if not isinstance(v, list) else f"{show(v)} ({show(item)})"
            raise ConfigError(f"{full}={shown}: allowed {rng.allowed()}")


def _guarded(full: str, check: Callable[[], None]) -> None:
    """Run `check`; anything but a ConfigError becomes one line naming `full`."""
    try:
        check()
    except ConfigError:
        raise
    except OmegaConfBaseException as err:
        raise ConfigError(f"{full}: {_one_line(err)}; allowed a value that resolves") from err
    except Exception as err:  # noqa: BLE001 (any failure while checking is the key's)
        raise ConfigError(
            f"{full}: cannot be checked ({type(err).__name__}: {_one_line(err)}); "
            "allowed a value of the declared type"
        ) from err


def _walk(
    cfg: DictConfig,
    prefix: str,
    plain: list,
    interpolated: list,
    node_rules: list,
    borrowed: bool = False,
) -> None:
    """Collect the checks under `cfg`; `borrowed`: `cfg` is another node reached through an
    interpolation (data.frozen_encoder is model.frozen_encoder), so its values are checked
    after the plain ones and a bad value is named by the key the user typed, at its source."""
    schema = OmegaConf.get_type(cfg)
    ranges = dict(declared(schema))
    children = []
    for key in cfg:
        full = f"{prefix}{key}"
        node = cfg._get_node(key)
        if node is None or node._is_missing():
            continue
        if isinstance(node, DictConfig):
            if node._is_interpolation() or not node._is_none():
                children.append((key, full))
            continue
        rng = ranges.get(str(key))
        if rng is not None:
            target = interpolated if borrowed or node._is_interpolation() else plain
            target.append((full, lambda c=cfg, k=str(key), f=full, r=rng: _check_leaf(c, k, f, r)))
    where = prefix.rstrip(".") or "config"
    for rule in rules(schema):
        node_rules.append((where, lambda c=cfg, r=rule: r.check(c, prefix)))
    for key, full in children:

        def descend(k: str = str(key), f: str = full) -> None:
            child = cfg[k]
            if isinstance(child, DictConfig):
                via = borrowed or cfg._get_node(k)._is_interpolation()
                _walk(child, f"{f}.", plain, interpolated, node_rules, via)

        _guarded(full, descend)


def check_tree(cfg: DictConfig, prefix: str = "") -> None:
    """Check every declared field of every node under `cfg`, then every rule.

    Order: plain values (a node's own fields before its children's), then interpolated
    values, then rules; the first failure is raised as one `ConfigError` line.
    """
    plain: list = []
    interpolated: list = []
    node_rules: list = []
    _walk(cfg, prefix, plain, interpolated, node_rules)
    for full, check in [*plain, *interpolated, *node_rules]:
        _guarded(full, check)
