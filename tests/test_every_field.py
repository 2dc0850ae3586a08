"""Every numeric and choice field of every config node refuses bad values in one line.

The fields are discovered, not listed: each option of each config group is composed, the
composed tree is walked with ``OmegaConf.get_type`` and every dataclass field of every
node is probed. So a field someone adds to unlearn/config/schema.py later is covered the day it
is added, and one added without a range fails `test_every_numeric_field_declares_a_range`.

Each numeric field is fed nan, inf, −inf, −1, 0 and the values at and just beyond each of
its declared bounds; each choice field a value outside its choices; each path an empty
one. A refused value must give one `ConfigError` line that starts with the key (what
`python -m unlearn` prints before exiting with status 2, checked through the real
command once); an accepted one must not be refused for that key. nan and ±inf are
refused everywhere.
"""

from __future__ import annotations

import copy
import math
import subprocess
import sys
import typing
from collections.abc import Iterator
from dataclasses import dataclass, fields, is_dataclass
from pathlib import Path
from typing import Any

import pytest
from omegaconf import DictConfig, ListConfig, OmegaConf, open_dict
from omegaconf.errors import OmegaConfBaseException

from unlearn.config.checks import ConfigError, prefer_given_unit, validate
from unlearn.config.fields import SEED_LIMIT, Range, declared
from unlearn.experiment.preflight import compose_run, translate

ROOT = Path(__file__).resolve().parents[1]
CONF = ROOT / "conf"
SKIP_GROUPS = {"hydra", "paths"}  # Hydra's own settings; paths has one option (composed anyway)


def group_options() -> list[list[str]]:
    """One override list per option of every config group (experiments, searches with ``+``)."""
    combos: list[list[str]] = [[]]
    for group in sorted(p.name for p in CONF.iterdir() if p.is_dir()):
        if group in SKIP_GROUPS:
            continue
        for option in sorted(p.stem for p in (CONF / group).glob("*.yaml")):
            prefix = "+" if group in ("experiment", "search") else ""
            combos.append([f"{prefix}{group}={option}"])
    combos.append(["model=distilbert_linear_head", "data=imdb"])  # the frozen encoder node
    return combos


@dataclass(frozen=True)
class Field:
    key: str  # full dotted key
    schema: type
    name: str
    annotation: Any
    range: Range | None
    value: Any  # the composed value (a list for list fields)

    @property
    def outer(self) -> Any:
        """The annotation without Optional."""
        if typing.get_origin(self.annotation) is typing.Union:
            args = [a for a in typing.get_args(self.annotation) if a is not type(None)]
            return args[0] if len(args) == 1 else self.annotation
        return self.annotation

    @property
    def base(self) -> Any:
        """int for int, Optional[int] and list[int]."""
        inner = typing.get_args(self.outer)
        return inner[0] if self.is_list and inner else self.outer

    @property
    def is_list(self) -> bool:
        return typing.get_origin(self.outer) is list

    @property
    def numeric(self) -> bool:
        if self.base in (int, float):
            return True
        rng = self.range
        return bool(rng) and rng.choices is None and not rng.nonempty and _has_bounds(rng)


def _has_bounds(rng: Range) -> bool:
    return any(b is not None for b in (rng.ge, rng.gt, rng.le, rng.lt))


def walk(cfg: DictConfig, prefix: str = "") -> Iterator[Field]:
    """Every field of every typed node under `cfg` (interpolated nodes included)."""
    schema = OmegaConf.get_type(cfg)
    if not is_dataclass(schema):
        for key in cfg:
            node = cfg._get_node(key)
            if isinstance(node, DictConfig) and not (
                node._is_none() or node._is_missing() or node._is_interpolation()
            ):
                yield from walk(cfg[key], f"{prefix}{key}.")
        return
    hints = typing.get_type_hints(schema)
    ranges = dict(declared(schema))
    for f in fields(schema):
        if f.name not in cfg or f.name.startswith("_"):
            continue
        node = cfg._get_node(f.name)
        if node is None or node._is_missing():
            continue
        if isinstance(node, DictConfig):
            if not node._is_none() and not node._is_interpolation():  # the source is walked
                yield from walk(cfg[f.name], f"{prefix}{f.name}.")
            continue
        value = cfg[f.name]
        if isinstance(value, ListConfig):
            value = OmegaConf.to_container(value, resolve=True)
        yield Field(f"{prefix}{f.name}", schema, f.name, hints[f.name], ranges.get(f.name), value)


@pytest.fixture(scope="module")
def composed() -> list[tuple[list[str], DictConfig, list[Field]]]:
    """(overrides, config, its fields) for every group option; each field once overall."""
    seen: set[tuple[str, str]] = set()
    out = []
    for overrides in group_options():
        cfg = compose_run(overrides)
        found = []
        for fld in walk(cfg):
            ident = (fld.key, fld.schema.__name__)
            if ident not in seen:
                seen.add(ident)
                found.append(fld)
        out.append((overrides, cfg, found))
    return out


def probes(fld: Field) -> list[Any]:
    """nan, ±inf, −1, 0, and each declared bound with its nearest value on the other side."""
    values: list[Any] = [math.nan, math.inf, -math.inf, -1, 0]
    rng = fld.range
    integer = fld.base is int or (rng is not None and rng.integer)
    if rng is not None:
        for bound, outward in ((rng.ge, -1), (rng.gt, -1), (rng.le, 1), (rng.lt, 1)):
            if bound is None:
                continue
            values.append(bound)
            if integer:
                values.append(int(bound) + outward)
            else:
                values.append(math.nextafter(bound, outward * math.inf))
                values.append(math.nextafter(bound, -outward * math.inf))
    if integer:  # an int field stores whole numbers only; non-finite ones are type errors
        values = [int(v) if math.isfinite(v) and float(v).is_integer() else v for v in values]
    return list(dict.fromkeys(values, None))  # keep order, drop repeats (nan stays once)


def feed(cfg: DictConfig, fld: Field, v: Any) -> str | None:
    """The one-line error for setting `fld` to `v` (as `key=v` on the command line), or None."""
    cfg = copy.deepcopy(cfg)
    new = [v, *(fld.value or [])[1:]] if fld.is_list else v
    override = f"{fld.key}={new}"
    try:
        with open_dict(cfg):
            OmegaConf.update(cfg, fld.key, new, merge=False)
        prefer_given_unit(cfg, [fld.key])  # what the command line does for N / t
        validate(cfg)
    except ConfigError as err:
        return str(err)
    except OmegaConfBaseException as err:  # a type error, as Hydra's compose raises it
        return str(translate(err, [override]))
    return None


def expected_refused(fld: Field, v: Any) -> bool:
    if isinstance(v, float) and not math.isfinite(v):
        return True
    if fld.base is int and isinstance(v, float) and not v.is_integer():
        return True
    rng = fld.range
    assert rng is not None
    return not (rng.items.accepts(v) if fld.is_list and rng.items else rng.accepts(v))


def test_every_numeric_field_declares_a_range(composed):
    missing = [
        f"{fld.schema.__name__}.{fld.name} ({fld.key})"
        for _, _, found in composed
        for fld in found
        if fld.numeric and fld.range is None
    ]
    assert not missing, f"numeric fields without value(...) in unlearn/config/schema.py: {missing}"


def test_counts_and_seeds_have_a_ceiling(composed):
    """Integers have an upper bound (a typo must not train until killed); seeds < 2^32."""
    for _, _, found in composed:
        for fld in found:
            if fld.base is int and fld.range is not None and fld.range.choices is None:
                assert fld.range.le is not None or fld.range.lt is not None, fld.key
            if fld.name.endswith("seed"):
                assert fld.range is not None and fld.range.lt == SEED_LIMIT, fld.key


def test_every_numeric_and_choice_field_refuses_bad_values_in_one_line(composed):
    fed = refused = 0
    problems: list[str] = []
    for _, cfg, found in composed:
        for fld in found:
            if fld.range is None:
                continue
            if fld.range.choices is not None:
                values: list[Any] = ["bogus-choice", math.nan]
                if True in fld.range.choices:  # a flag: true or false, not 2, 0, 1 or "yes"
                    values += [2, 0, 1, "yes"]
            elif fld.range.nonempty:  # paths and names
                values = ["", "  "]
            elif fld.numeric:
                values = probes(fld)
            else:
                continue
            for v in values:
                message = feed(cfg, fld, v)
                if fld.range.choices is not None:
                    bad = not fld.range.accepts(v)  # 1 == True, but 1 is not a choice
                else:
                    bad = fld.range.nonempty or expected_refused(fld, v)
                fed += 1
                if bad:
                    refused += 1
                    ok = message is not None and "\n" not in message and "allowed" in message
                    if not (ok and message.startswith(fld.key)):
                        problems.append(f"{fld.key}={v!r} not refused in one line: {message}")
                elif (  # a rule with another field ("... (with lr=0.01)") may refuse it
                    message is not None
                    and message.startswith(f"{fld.key}=")
                    and " (with " not in message
                ):
                    problems.append(f"{fld.key}={v!r} is allowed but refused: {message}")
    assert not problems, "\n".join(problems[:20])
    assert refused > 300  # the walk found the fields (a broken walk would find none)
    print(f"\nfed {fed} values to the discovered fields, {refused} of them bad; all refused")


def test_a_value_that_does_not_resolve_is_one_line_naming_the_key(tmp_path):
    cfg = compose_run(["logger=none"])
    with open_dict(cfg):
        cfg.lr = "${oc.env:UNLEARN_TEST_NO_SUCH_VARIABLE}"
    with pytest.raises(ConfigError) as err:
        validate(cfg)
    assert str(err.value).startswith("lr: ") and "\n" not in str(err.value)


# the real command: status 2, one line on stderr, nothing written
CLI = [["lr=inf"]]  # each costs a process start (~10 s); the others are checked in-process


@pytest.mark.parametrize("args", CLI, ids=[" ".join(a) for a in CLI])
def test_the_command_exits_2_with_one_line(tmp_path, args):
    out = tmp_path / "run"
    proc = subprocess.run(
        [sys.executable, "-m", "unlearn", *args, "logger=none", f"hydra.run.dir={out}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 2, proc.stderr[-2000:]
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith(f"error: {args[0].split('=')[0]}="), lines
    assert not out.exists()
