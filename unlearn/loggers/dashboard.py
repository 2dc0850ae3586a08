"""W&B dashboards as code: a saved workspace and a report per sweep, built from the keys
this framework's runs log (`unlearn.loggers.wandb_run`), so a synced sweep opens laid out as the
paper reads instead of W&B's alphabetical auto-panels.

    python -m unlearn.sync SWEEP_DIR --dashboard      # upload, then save both
    make dashboard SWEEP=SWEEP_DIR

The workspace has four sections (Training, Window, Unlearning, Sweep); the report rebuilds
Figs. 9, 11, 12 and the methods leaderboard as live panels over the sweep's W&B group, with
the analysis' report.md text beside them (docs/dashboards.md). Everything is plain Python
below: a panel is one `wr.*` call, a section one function. Both are saved again on every
call: their ids are kept in ``SWEEP_DIR/wandb/dashboard.json``, so a re-run updates them.

Built on `wandb-workspaces` (W&B's own models of workspace and report specs, pinned in
pyproject.toml: its model layer is young).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import wandb_workspaces.reports.v2 as wr
import wandb_workspaces.workspaces as ws
import yaml
from wandb_workspaces import expr

# the keys every job logs (unlearn/loggers/wandb_run.py, unlearn/callbacks/): history and summary
E, V, V_NONE, V_RATIO = (
    "unlearning_error",
    "verification_error",
    "verification_error_no_unlearning",
    "v_ratio",
)
# σ, drift, e and v are sent at the window's steps, where Lightning's global step is the
# window step (its trainer starts at 0: unlearn/callbacks/schedule.py `window_step`)
WINDOW_STEP = "trainer/global_step"
PHASES = ("pretrain", "window")
COSTS = (("cost_gradient_evaluations", "gradient evaluations"), ("cost_seconds", "seconds"))
SWEEP_AXES = (
    ("gamma", "γ"),
    ("N", "N"),
    ("batch_size", "batch size"),
    ("model", "model"),
    ("lr", "η"),
)
SWEEP_OUTCOMES = ((E, "e"), (V, "v"), ("test_acc", "test accuracy"))
MAX_RUNS = 200  # runs per panel (W&B shows 10 unless told): a 160-job grid fits
OFFLINE_STATUS = 3  # exit status when W&B cannot be reached: nothing created
_SKIP_DIRS = {"wandb", ".submitit", "checkpoints", "csv", ".hydra", "figures"}
_NOT_VARIED = ("hydra", "logger", "paths", "progress", "sweep", "experiment")


class DashboardError(ValueError):
    """A sweep folder the dashboards cannot be made for (one line, exit status 2)."""


@dataclass(frozen=True)
class Sweep:
    """What the dashboards need from a sweep folder: where its runs are in W&B, which
    config keys its jobs vary, and the analysis' report.md."""

    folder: str
    entity: str | None
    project: str
    group: str
    runs: int
    varied: tuple[str, ...] = ()
    report_md: str = ""
    online: bool = False  # the jobs logged live (logger.mode=online)
    requested: bool = False  # logger.dashboard=true


# ---------------------------------------------------------------------------- the panels


def line(title: str, x: str, y: list[str], title_x: str, **kw: Any) -> wr.LinePlot:
    """One line per run (its name: the job's own overrides), no smoothing."""
    return wr.LinePlot(
        title=title,
        x=x,
        y=y,
        title_x=title_x,
        legend_template="${run:displayName}",
        smoothing_type="none",
        max_runs_to_show=MAX_RUNS,
        **kw,
    )


def scatter(title: str, x: str, y: str, **kw: Any) -> wr.ScatterPlot:
    """A point per run from its summary (W&B scatter plots read summary keys only)."""
    return wr.ScatterPlot(title=title, x=wr.SummaryMetric(x), y=wr.SummaryMetric(y), **kw)


def training_section() -> ws.Section:
    """Loss (with its CE and regulariser parts) and train/test accuracy, per phase."""
    panels = []
    for phase in PHASES:
        step = f"{phase}/step"
        parts = [f"{phase}/train_loss", f"{phase}/train_ce", f"{phase}/train_reg"]
        panels.append(line(f"{phase}: loss = CE + regulariser", step, parts, f"{phase} step"))
        accuracy = [f"{phase}/train_acc", f"{phase}/test_acc"]
        panels.append(line(f"{phase}: train and test accuracy", step, accuracy, f"{phase} step"))
    return ws.Section(name="Training", panels=panels, is_open=True)


def window_section() -> ws.Section:
    """σ, ‖w_t − w_0‖, e, v and v_none along the window, one line per run."""
    curves = (
        ("σ (largest Hessian eigenvalue)", "sigma"),
        ("‖w_t − w_0‖ (weight drift)", "weight_drift"),
        ("e (unlearning error)", E),
        ("v (verification error)", V),
        ("v_none (v without unlearning)", V_NONE),
    )
    panels = [line(title, WINDOW_STEP, [key], "window step") for title, key in curves]
    return ws.Section(name="Window", panels=panels, is_open=True)


def unlearning_section() -> ws.Section:
    """e against v over runs, v/v_none per method, and cost against v/v_none."""
    panels: list[Any] = [scatter("e against v (one point per run)", E, V, regression=True)]
    panels.append(
        wr.BarPlot(
            title="v / v_none per method (below 1: closer to the twin than doing nothing)",
            metrics=[V_RATIO],
            groupby=wr.Config("unlearn.method"),
            groupby_aggfunc="mean",
            groupby_rangefunc="stderr",
            max_runs_to_show=MAX_RUNS,
        )
    )
    for key, what in COSTS:
        panels.append(scatter(f"cost ({what}) against v / v_none", key, V_RATIO, log_x=True))
    return ws.Section(name="Unlearning", panels=panels, is_open=True)


def sweep_section() -> ws.Section:
    """γ, N, batch size, model, η → e, v, accuracy: one polyline per run."""
    columns = [
        wr.ParallelCoordinatesPlotColumn(metric=wr.SummaryMetric(key), display_name=name)
        for key, name in (*SWEEP_AXES, *SWEEP_OUTCOMES)
    ]
    plot = wr.ParallelCoordinatesPlot(
        title="γ, N, batch size, model, η → e, v, accuracy", columns=columns
    )
    return ws.Section(name="Sweep", panels=[plot], is_open=True)


SECTIONS: tuple[Callable[[], ws.Section], ...] = (
    training_section,
    window_section,
    unlearning_section,
    sweep_section,
)


def train_runs(group: str) -> list[Any]:
    """The sweep's job runs: its W&B group, without the analysis run."""
    return [expr.Metric("Group") == group, expr.Metric("JobType") == "train"]


def workspace(sweep: Sweep) -> ws.Workspace:
    """The saved workspace for `sweep`: its job runs, grouped by the keys its jobs vary."""
    space = ws.Workspace(
        entity=sweep.entity or "",
        project=sweep.project,
        name=f"unlearn {sweep.group}"[:128],
        sections=[make() for make in SECTIONS],
        settings=ws.WorkspaceSettings(max_runs=MAX_RUNS),
        runset_settings=ws.RunsetSettings(
            filters=train_runs(sweep.group),
            groupby=[expr.Config(key) for key in sweep.varied],
            pinned_columns=[f"summary:{k}" for k in (E, V, V_NONE, V_RATIO)],
        ),
    )
    for section in space.sections:
        _stable_ids(section.panels, f"workspace/{section.name}")
    return space


# ---------------------------------------------------------------------------- the report


def figures(sweep: Sweep) -> list[tuple[str, list[Any], str]]:
    """(heading, panels, the report.md section shown beside them) per figure."""
    fig9 = [
        line("Fig. 9: e along t", WINDOW_STEP, [E], "window step t"),
        line("Fig. 9: v along t", WINDOW_STEP, [V], "window step t"),
    ]
    fig11 = [
        scatter("Fig. 11: e against γ", "gamma", E),
        scatter("Fig. 11: e against v across γ", E, V, regression=True),
    ]
    fig12 = [scatter("Fig. 12: e against v over every setting", E, V, regression=True)]
    board = unlearning_section().panels
    return [
        ("Fig. 9: e and v along t", fig9, ""),
        ("Fig. 11: e and v across γ", fig11, ""),
        ("Fig. 12: e against v over every setting", fig12, section_of(sweep.report_md, "Pearson")),
        (
            "Leaderboard: methods against the twin",
            board,
            section_of(sweep.report_md, "Leaderboard"),
        ),
    ]


def report(sweep: Sweep) -> wr.Report:
    """The sweep's report: the paper's figures as live panels over its group, each with
    the analysis' text beside it, then the rest of report.md."""
    blocks: list[Any] = [
        wr.P(
            f"Live panels over the {sweep.runs} runs of W&B group {sweep.group} "
            f"(sweep folder {sweep.folder}); the text is the analysis' report.md."
        )
    ]
    shown = []
    for i, (heading, panels, text) in enumerate(figures(sweep)):
        runset = wr.Runset(
            entity=sweep.entity or "",
            project=sweep.project,
            name=sweep.group[:64],
            filters=train_runs(sweep.group),
        )
        _stable_ids([runset], f"report/{i}/runset")
        _stable_ids(panels, f"report/{i}")
        blocks += [wr.H2(heading), wr.PanelGrid(runsets=[runset], panels=panels)]
        if text:
            blocks.append(wr.MarkdownBlock(text=text))
            shown.append(text)
    rest = [s for s in split_sections(sweep.report_md) if s not in shown]
    if rest:
        blocks += [
            wr.H2("The rest of the analysis (report.md)"),
            wr.MarkdownBlock("\n\n".join(rest)),
        ]
    return wr.Report(
        entity=sweep.entity or "",
        project=sweep.project,
        title=f"unlearn: {sweep.group}"[:128],
        description=f"The paper's figures, live, for sweep {sweep.folder}",
        blocks=blocks,  # width: the default, which Report._from_model (0.4.13) keeps
    )


def split_sections(markdown: str) -> list[str]:
    """report.md's ``## `` sections, with its figure links replaced by a pointer to the
    analysis run (a report cannot reach files relative to the sweep folder)."""
    text = re.sub(
        r"!\[([^\]]*)\]\(([^)]+)\)", r"*(figure \2: in the analysis run's media)*", markdown
    )
    parts = re.split(r"(?m)^(?=## )", text)
    return [p.strip() for p in parts if p.strip().startswith("## ")]


def section_of(markdown: str, heading: str) -> str:
    """The report.md section whose heading starts with `heading` ('' if none)."""
    found = [s for s in split_sections(markdown) if s.startswith(f"## {heading}")]
    return found[0] if found else ""


def _stable_ids(items: list[Any], prefix: str) -> None:
    """Ids derived from the panel's place, not random: the snapshot stays comparable and a
    re-save updates the same panels."""
    for i, item in enumerate(items):
        item._id = hashlib.sha256(f"{prefix}/{i}".encode()).hexdigest()[:11]


# ---------------------------------------------------------------------------- what panels read


def panel_keys(panels: list[Any]) -> dict[str, set[str]]:
    """The keys the panels read, by where W&B reads them: ``history``, ``summary``,
    ``config`` (tests check each against a real run's files)."""
    keys: dict[str, set[str]] = {"history": set(), "summary": set(), "config": set()}

    def add(metric: Any, default: str) -> None:
        if isinstance(metric, wr.SummaryMetric):
            keys["summary"].add(metric.name)
        elif isinstance(metric, wr.Config):
            keys["config"].add(metric.name)
        elif isinstance(metric, str) and metric:
            keys[default].add(metric)

    for p in panels:
        if isinstance(p, wr.LinePlot):
            for m in (p.x, *p.y):
                add(m, "history")
        elif isinstance(p, wr.ScatterPlot):
            for m in (p.x, p.y, p.z):
                add(m if m is None or not isinstance(m, str) else wr.SummaryMetric(m), "summary")
        elif isinstance(p, wr.BarPlot):  # a bar is the run's last value: its summary
            for m in p.metrics:
                add(m, "summary")
            add(p.groupby, "config")
        elif isinstance(p, wr.ParallelCoordinatesPlot):
            for c in p.columns:
                add(c.metric, "summary")
    return keys


def all_panels(space: ws.Workspace, rep: wr.Report) -> list[Any]:
    """Every panel of the workspace and the report."""
    panels = [p for s in space.sections for p in s.panels]
    return panels + [p for b in rep.blocks if isinstance(b, wr.PanelGrid) for p in b.panels]


# ---------------------------------------------------------------------------- the sweep folder


def read_sweeps(root: str | Path, extra: list[str] | tuple[str, ...] = ()) -> list[Sweep]:
    """One `Sweep` per W&B group among the runs under `root` (their results.json).

    Entity and project: ``--entity``/``--project`` in `extra` (as given to ``wandb sync``),
    else the jobs' ``logger.wandb``, else ``WANDB_ENTITY``/``WANDB_PROJECT``.
    """
    root = Path(root)
    found = sorted(root.rglob("results.json"))
    found = [p for p in found if not _SKIP_DIRS & set(p.relative_to(root).parts[:-1])]
    jobs = [j for j in map(_job, found) if j is not None]
    if not jobs:
        allowed = "allowed a sweep folder run with logger=wandb"
        raise DashboardError(f"sweep_dir={str(root)!r}: no W&B job below it; {allowed}")
    flags = _flags(extra)
    by_group: dict[str, list[dict[str, Any]]] = {}
    for job in jobs:
        if not job["wandb"].get("group"):
            where = f"sweep_dir={str(root)!r}: job {job['dir']}"
            raise DashboardError(f"{where} has no W&B group; allowed a multirun sweep folder")
        by_group.setdefault(job["wandb"]["group"], []).append(job)
    report_md = (root / "report.md").read_text() if (root / "report.md").is_file() else ""
    sweeps = []
    for group, members in sorted(by_group.items()):
        node = members[0]["wandb"]
        sweeps.append(
            Sweep(
                folder=str(root),
                entity=flags.get("entity") or node.get("entity") or os.environ.get("WANDB_ENTITY"),
                project=flags.get("project")
                or node.get("project")
                or os.environ.get("WANDB_PROJECT")
                or "unlearn",
                group=group,
                runs=len(members),
                varied=varied_keys(members),
                report_md=report_md,
                online=all(j["mode"] == "online" for j in members),
                requested=any(j["dashboard"] for j in members),
            )
        )
    return sweeps


def _job(path: Path) -> dict[str, Any] | None:
    """A job's W&B settings, config and overrides; None if it did not log to W&B."""
    try:
        results = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    config = results.get("config") if isinstance(results, dict) else None
    logger = (config or {}).get("logger") or {}
    node = logger.get("wandb")
    if not isinstance(node, dict) or not str(node.get("_target_", "")).endswith("WandbLogger"):
        return None
    overrides_file = path.parent / ".hydra" / "overrides.yaml"
    overrides = yaml.safe_load(overrides_file.read_text()) if overrides_file.is_file() else []
    mode = node.get("mode") or logger.get("mode") or "offline"
    return {
        "dir": str(path.parent),
        "wandb": node,
        "config": config,
        "overrides": overrides or [],
        "mode": mode,
        "dashboard": bool(logger.get("dashboard")),
    }


def varied_keys(jobs: list[dict[str, Any]]) -> tuple[str, ...]:
    """The config keys the jobs' overrides set to more than one value, in override order
    (a config group such as ``unlearn=scrub`` stands for its ``method`` or ``_target_``)."""
    values: dict[str, set[str]] = {}
    for job in jobs:
        for item in job["overrides"]:
            key, _, value = str(item).lstrip("+~").partition("=")
            if value and not key.startswith(_NOT_VARIED):
                values.setdefault(key, set()).add(value)
    keys = []
    for key, seen in values.items():
        if len(seen) < 2:
            continue
        node = _select(jobs[0]["config"], key)
        if isinstance(node, dict):
            leaf = "method" if "method" in node else "_target_" if "_target_" in node else None
            key = f"{key}.{leaf}" if leaf else ""
        if key and key not in keys:
            keys.append(key)
    return tuple(keys)


def _select(config: dict[str, Any], dotted: str) -> Any:
    node: Any = config
    for part in dotted.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return node


def _flags(extra: list[str] | tuple[str, ...]) -> dict[str, str]:
    """``--entity X``/``--project X`` (or ``-e``/``-p``, or ``--entity=X``) from `extra`."""
    out, names = {}, {"--entity": "entity", "-e": "entity", "--project": "project", "-p": "project"}
    for i, arg in enumerate(extra):
        flag, eq, value = arg.partition("=")
        if flag in names and (eq or i + 1 < len(extra)):
            out[names[flag]] = value if eq else extra[i + 1]
    return out


# ---------------------------------------------------------------------------- saving


def offline_reason() -> str | None:
    """Why W&B cannot be reached from here (None: it can)."""
    mode = os.environ.get("WANDB_MODE", "").lower()
    if mode in ("offline", "disabled", "dryrun"):
        return f"WANDB_MODE={mode}"
    import wandb

    try:
        wandb.Api()
    except Exception as err:  # noqa: BLE001 (no key, no network: say which, create nothing)
        return str(err).splitlines()[0] or type(err).__name__
    return None


def describe(sweep: Sweep) -> str:
    """What would be saved for `sweep`, in a few words."""
    space, sections = sum(len(make().panels) for make in SECTIONS), len(SECTIONS)
    figs = figures(sweep)
    where = f"{sweep.entity or '<your default entity>'}/{sweep.project}"
    md = ", report.md beside them" if sweep.report_md else ", no report.md yet"
    panels = sum(len(f[1]) for f in figs)
    return (
        f'workspace "unlearn {sweep.group}" ({sections} sections, {space} panels) and report '
        f'"unlearn: {sweep.group}" ({len(figs)} figures, {panels} panels{md}) '
        f"in {where}, over the {sweep.runs} runs of group {sweep.group}"
    )


def offline_line(sweeps: list[Sweep], reason: str) -> str:
    """The one line printed when nothing is saved: what would be, and how to sync first."""
    what = "; ".join(describe(s) for s in sweeps)
    line = f"dashboard: nothing saved ({reason}); would save {what}."
    if reason == "--dry-run":
        return line
    folder = sweeps[0].folder if sweeps else "SWEEP_DIR"
    return f"{line} Sync first: `wandb login`, then `python -m unlearn.sync {folder} --dashboard`"


def publish(sweep: Sweep) -> tuple[str, str]:
    """Save (create or update) the workspace and the report; returns their URLs."""
    state_file = Path(sweep.folder) / "wandb" / "dashboard.json"
    state = json.loads(state_file.read_text()) if state_file.is_file() else {}
    mine = state.get(sweep.group, {})
    if not sweep.entity:  # the views need one: the account's default
        import wandb

        sweep = replace(sweep, entity=wandb.Api().default_entity)
    space = workspace(sweep)
    if mine.get("workspace_id"):
        space._internal_name, space._internal_id = mine["workspace_name"], mine["workspace_id"]
    space.save()
    rep = report(sweep)
    rep.id = mine.get("report_id", "")
    rep.save()
    state[sweep.group] = {
        "workspace_name": space._internal_name,
        "workspace_id": space._internal_id,
        "report_id": rep.id,
    }
    state_file.parent.mkdir(parents=True, exist_ok=True)
    state_file.write_text(json.dumps(state, indent=1) + "\n")
    return space.url, rep.url


def main(root: str, extra: list[str], upload: Callable[[], int], dry: bool = False) -> int:
    """``python -m unlearn.sync SWEEP_DIR --dashboard``: upload, then save both.

    Exit status: 0 saved (or, with --dry-run, listed); 2 not a sweep folder that logged to
    W&B; 3 W&B cannot be reached (one line says what would be created and how to sync
    first); otherwise ``wandb sync``'s own status when the upload failed.
    """
    try:
        sweeps = read_sweeps(root, extra)
    except DashboardError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if dry:  # list what would be uploaded, say what would be saved
        status = upload()
        print(offline_line(sweeps, "--dry-run"))
        return status
    reason = offline_reason()
    if reason:
        print(offline_line(sweeps, reason))
        return OFFLINE_STATUS
    status = upload()
    if status:
        return status
    for sweep in sweeps:
        space_url, report_url = publish(sweep)
        print(f"dashboard: workspace {space_url}\ndashboard: report    {report_url}")
    return 0


def after_analysis(root: str | Path) -> None:
    """End of a sweep (``python -m unlearn.analyze``): save the dashboards when the jobs
    asked for them (``logger.dashboard=true``) and logged live (``logger.mode=online``);
    offline, say in one line what to run once synced. Never raises: a dashboard must not
    fail an analysis."""
    try:
        sweeps = [s for s in read_sweeps(root) if s.requested]
        if not sweeps:
            return
        reason = None if all(s.online for s in sweeps) else "the jobs ran offline, not synced yet"
        reason = reason or offline_reason()
        if reason:
            print(offline_line(sweeps, reason))
            return
        for sweep in sweeps:
            print("dashboard: workspace {}\ndashboard: report    {}".format(*publish(sweep)))
    except Exception as err:  # noqa: BLE001
        first = (str(err).splitlines() or [""])[0]
        print(f"dashboard: not saved: {type(err).__name__}: {first}")
