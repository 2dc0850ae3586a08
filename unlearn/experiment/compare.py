"""`unlearn.compare`: several methods on one window against one twin (docs/methods.md).

Every method reads the same trajectory and is scored against the same twin, so one run
can serve them all: the window-watching methods (single_gradient, amnesiac, unrolled,
damped_gradient, influence, rewind) watch the same steps side by side in one `Unlearner`
(`Unlearner.compare_with`), and each post-hoc method starts from its own copy of w_t on
its own seeded streams, exactly as when it runs alone. So each method's numbers are the
single run's bit for bit (tests/test_compare.py), and only its own cost is its; the
shared twin's is reported once, as ``twin_cost``.

Each method takes the settings of its own YAML (conf/unlearn/<name>.yaml, with its
parents), plus what the command line changed in ``unlearn.*`` where the method has that
key (``unlearn=fine_tune unlearn.steps=20`` gives every post-hoc method 20 steps), plus
its entry's own settings (``rewind@k:5``, ``rewind@k:5@rewind_every:1``).
"""

from __future__ import annotations

import logging
import math
import time
from typing import Any

import yaml
from omegaconf import DictConfig, OmegaConf, open_dict
from omegaconf.errors import OmegaConfBaseException

from unlearn.config.checks import ConfigError
from unlearn.config.fields import check_tree
from unlearn.config.resources import CONF_DIR
from unlearn.config.schema import GROUP_SCHEMAS, METHOD_NAMES, compare_entries, split_entry

log = logging.getLogger(__name__)

PLAIN_SGD_ONLY = ("unrolled", "damped_gradient")
NOT_KEYS = ("method", "compare")  # never carried from the command line to another method


# ---------------------------------------------------------------------------- the methods' settings


def _chain(name: str) -> tuple[DictConfig, str]:
    """conf/unlearn/<name>.yaml merged over its parents (Hydra's order: defaults, then the
    file itself), and the schema it names (``/schema/unlearn/<schema>@_here_``)."""
    text = OmegaConf.load(CONF_DIR / "unlearn" / f"{name}.yaml")
    defaults = list(text.pop("defaults", []) or [])
    merged, schema = OmegaConf.create({}), "method"
    if "_self_" not in defaults:
        defaults.append("_self_")
    for entry in defaults:
        entry = str(entry)
        if entry == "_self_":
            merged = OmegaConf.merge(merged, text)
        elif entry.startswith("/schema/unlearn/"):
            schema = entry.removeprefix("/schema/unlearn/").split("@")[0]
        else:
            parent, parent_schema = _chain(entry)
            merged = OmegaConf.merge(merged, parent)
            schema = parent_schema if schema == "method" else schema
    return merged, schema


def _typed(name: str) -> DictConfig:
    raw, schema = _chain(name)
    return OmegaConf.merge(OmegaConf.structured(GROUP_SCHEMAS["unlearn"][schema]), raw)


def _resolve(cfg: DictConfig, node: DictConfig, where: str) -> dict[str, Any]:
    """The node with its ``${...}`` resolved against the run's config, ranges checked."""
    root = cfg.copy()
    with open_dict(root):
        root.unlearn = node
    try:
        check_tree(root.unlearn, f"{where}.")
        return OmegaConf.to_container(root.unlearn, resolve=True)  # type: ignore[return-value]
    except OmegaConfBaseException as err:
        raise ConfigError(f"{where}: {str(err).splitlines()[0]}; allowed a valid setting") from err


def entries(cfg: DictConfig) -> list[str]:
    """The methods to compare, in order (the first gives results.json's top-level keys);
    [] without `unlearn.compare`. ``all``: every registered method, the run's own first."""
    unlearn = cfg.get("unlearn") or {}
    found = compare_entries(unlearn.get("compare"))
    if found != ["all"]:
        return found
    own = str(unlearn.get("method"))
    names = [own, *(m for m in METHOD_NAMES if m != own)]
    opt = cfg.get("optimizer") or {}
    if opt.get("momentum", 0.0) or opt.get("weight_decay", 0.0):
        log.info("unlearn.compare=all: %s left out (plain SGD only)", ", ".join(PLAIN_SGD_ONLY))
        names = [m for m in names if m not in PLAIN_SGD_ONLY]
    return names


def _overrides(cfg: DictConfig) -> dict[str, Any]:
    """What the command line changed in ``unlearn.*`` against the method's own YAML."""
    given = OmegaConf.to_container(cfg.unlearn, resolve=True)
    own = _resolve(cfg, _typed(str(cfg.unlearn.method)), "unlearn")
    missing = object()
    return {k: v for k, v in given.items() if k not in NOT_KEYS and own.get(k, missing) != v}  # type: ignore[union-attr]


def method_options(cfg: DictConfig) -> dict[str, dict[str, Any]]:
    """entry → its resolved ``unlearn`` node (method, w_ref and hyperparameters)."""
    out: dict[str, dict[str, Any]] = {}
    overrides = _overrides(cfg) if entries(cfg) else {}
    for entry in entries(cfg):
        name, settings = split_entry(entry)
        where = f"unlearn.compare[{entry}]"
        if name == str(cfg.unlearn.method) and not settings:  # the run's own node, as alone
            out[entry] = OmegaConf.to_container(cfg.unlearn, resolve=True)  # type: ignore[assignment]
            continue
        node = _typed(name)
        for k, v in overrides.items():
            if k in node:
                node[k] = v
        allowed = [k for k in node if k not in (*NOT_KEYS, "w_ref")]
        for key, text in settings or []:
            if key not in allowed:
                raise ConfigError(
                    f"{where}: {name} has no setting {key!r}; "
                    f"allowed {', '.join(allowed) or 'none'}"
                )
            try:
                node[key] = yaml.safe_load(str(text))
            except (OmegaConfBaseException, yaml.YAMLError) as err:
                raise ConfigError(
                    f"{where}: {key}={text!r} ({str(err).splitlines()[0]}); allowed a "
                    "value of the setting's type"
                ) from err
        out[entry] = _resolve(cfg, node, where)
    return out


# ---------------------------------------------------------------------------- checks


def check(cfg: DictConfig) -> None:
    """One-line ConfigErrors before anything runs: settings, plain SGD, top-k."""
    options = method_options(cfg)
    opt = cfg.get("optimizer") or {}
    plain = not opt.get("momentum", 0.0) and not opt.get("weight_decay", 0.0)
    top_k = int((cfg.get("spectrum") or {}).get("top_k", 1))
    for entry, node in options.items():
        if node["method"] in PLAIN_SGD_ONLY and not plain:
            raise ConfigError(
                f"unlearn.compare[{entry}]: allowed with plain SGD only "
                "(optimizer.momentum=0, optimizer.weight_decay=0)"
            )
        if node["method"] == "damped_gradient" and int(node.get("top_k", 1)) > top_k:
            raise ConfigError(
                f"unlearn.compare[{entry}]: top_k={node['top_k']}: allowed <= "
                f"spectrum.top_k={top_k} (set unlearn.top_k=K to raise both)"
            )


def check_window(cfg: DictConfig, t: int, forget: Any, num_train: int) -> None:
    """What needs t and F: rewind's k <= t; a method that needs R only where R is not empty."""
    from unlearn.methods import METHODS

    nodes = dict(method_options(cfg)) or {
        "unlearn": OmegaConf.to_container(cfg.unlearn, resolve=True)
    }
    for entry, node in nodes.items():
        where = "unlearn" if entry == "unlearn" else f"unlearn.compare[{entry}]"
        if node["method"] == "rewind" and not 1 <= int(node["k"]) <= t:
            raise ConfigError(f"{where}.k={node['k']}: allowed 1 <= k <= t = {t}")
        cls = METHODS[node["method"]]
        if entry != "unlearn" and cls.needs_retain and forget.unique().numel() >= num_train:
            raise ConfigError(
                f"{where}: allowed only with a non-empty retain set, but the forget set holds "
                f"all {num_train} training samples"
            )


# ---------------------------------------------------------------------------- the run


def attach(cfg: DictConfig, unlearner: Any) -> None:
    """Give the run's Unlearner every compared method (nothing without unlearn.compare)."""
    from unlearn.methods import build

    options = method_options(cfg)
    if not options or unlearner is None:
        return
    methods = {e: build(n["method"], n.get("w_ref", "initial"), n) for e, n in options.items()}
    unlearner.compare_with(methods)


def method_rows(
    cfg: DictConfig, data: Any, module: Any, unlearner: Any, results: dict[str, Any]
) -> dict[str, Any]:
    """results.json's ``compare`` (the entries) and ``methods`` (entry → its row: every
    key the leaderboard reads, under the single run's names, and its v curve)."""
    if not entries(cfg) or unlearner is None or unlearner.twin is None:
        return {}
    from unlearn.metrics import field_metrics
    from unlearn.metrics.report import TwinScores, with_weights

    rows: dict[str, Any] = {}
    v_none = results["verification_error_no_unlearning"]
    v_order = results.get("v_order")
    twin_scores, began = TwinScores(), time.perf_counter()
    for i, lane in enumerate(unlearner.lanes, 1):
        if lane.final is None:  # resumed at step t: the answer was never asked for
            lane.final = [
                w.detach().clone() for w in unlearner.unlearned_weights(module, lane.method)
            ]
        v = lane.values[-1] if lane.values else math.nan
        row: dict[str, Any] = {
            "method": lane.name,
            "verification_error": v,
            "verification_error_no_unlearning": v_none,
        }
        row |= field_metrics(
            cfg, data, with_weights(module.net, lane.final), unlearner.twin.net,
            unlearner.forget_indices, v, v_none, unlearner.cost_of(lane.method).as_dict(),
            unlearner.twin_cost.as_dict(), lane.method.storage_bytes, twin_scores,
        )  # fmt: skip
        log.info(
            "methods: %d/%d scored (%s: accuracies, MIA, output distances), %.0f s",
            i, len(unlearner.lanes), lane.name, time.perf_counter() - began,
        )  # fmt: skip
        if isinstance(v_order, float):
            row["v_order_ratio"] = v / v_order if v_order else math.nan
        row["unlearn_cost"] = unlearner.cost_of(lane.method).as_dict()
        row["unlearn_storage_bytes"] = lane.method.storage_bytes
        row["unlearn_report"] = getattr(lane.method, "report", dict)()
        row["curves"] = {"verify_step": list(unlearner.steps), "verification_error": lane.values}
        rows[lane.name] = row
    return {"compare": [lane.name for lane in unlearner.lanes], "methods": rows}


# ---------------------------------------------------------------------------- the console


def _fmt(value: Any) -> str:
    if not isinstance(value, int | float) or (
        isinstance(value, float) and not math.isfinite(value)
    ):
        return "—"
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def methods_table(results: dict[str, Any]) -> str:
    """Every compared method in one plain-text table (v, ratios, accuracies, cost)."""
    from rich.box import HORIZONTALS
    from rich.console import Console
    from rich.table import Table

    rows = results.get("methods") or {}
    with_order = any("v_order_ratio" in r for r in rows.values())
    columns = [("v", "verification_error"), ("v/v_none", "v_ratio")]
    columns += [("v/v_order", "v_order_ratio")] if with_order else []
    columns += [("acc F", "acc_forget"), ("acc R", "acc_retain"), ("acc test", "acc_test")]
    columns += [("grads", "cost_gradient_evaluations"), ("HVPs", "cost_hessian_vector_products")]
    columns += [("s", "cost_seconds")]
    table = Table(box=HORIZONTALS, pad_edge=False)
    table.add_column("method")
    for head, _ in columns:
        table.add_column(head, justify="right")
    for name, row in rows.items():
        table.add_row(name, *(_fmt(row.get(k)) for _, k in columns))
    twin = results.get("twin_cost") or {}
    console = Console(width=120, color_system=None, force_terminal=False, record=True)
    with console.capture() as out:
        console.print(table)
    lines = [line.rstrip() for line in out.get().strip("\n").splitlines()]
    lines.append(
        f"twin (shared): {twin.get('gradient_evaluations', '—')} gradient evaluations, "
        f"{_fmt(twin.get('seconds'))} s"
        + (f"; v_order = {_fmt(results['v_order'])}" if "v_order" in results else "")
    )
    return "\n".join(lines)


# ---------------------------------------------------------------------------- the order floor


def add_order_twin(cfg: DictConfig, data: Any, callbacks: list) -> None:
    """With ``twin.order_noise=true``: a second exact twin right after the Unlearner."""
    twin = cfg.get("twin") or {}
    if not twin.get("order_noise"):
        return
    from unlearn.callbacks.order_twin import OrderTwin
    from unlearn.callbacks.unlearner import Unlearner

    at = next((i for i, cb in enumerate(callbacks) if isinstance(cb, Unlearner)), None)
    if at is None:
        raise ConfigError("twin.order_noise=true: allowed only with the unlearner callback")
    seed = twin.get("order_seed")
    seed = int(cfg.seed) + 1 if seed is None else int(seed)
    order = OrderTwin(
        data, int(cfg.batch_size), seed, int(cfg.verify_every), str(twin.partial_batch)
    )
    callbacks.insert(at + 1, order)


def order_results(callbacks: list, results: dict[str, Any]) -> dict[str, Any]:
    """v_order, its curve (in ``curves``) and v / v_order of the first method."""
    from unlearn.callbacks.order_twin import OrderTwin

    order = next((cb for cb in callbacks if isinstance(cb, OrderTwin)), None)
    if order is None:
        return {}
    out = order.results()
    results.setdefault("curves", {})["v_order"] = list(order.values)
    v, v_order = results.get("verification_error"), out["v_order"]
    out["v_order_ratio"] = v / v_order if isinstance(v, float) and v_order else math.nan
    return out
