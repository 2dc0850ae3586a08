"""W&B dashboards as code (unlearn/loggers/dashboard.py), without a server.

The workspace and report models are compared with a committed snapshot,
tests/snapshots/dashboard.json, so a change to a panel shows up as a reviewed diff.
After changing a panel on purpose, regenerate it and review `git diff`:

    UNLEARN_UPDATE_SNAPSHOTS=1 .venv/bin/python -m pytest tests/test_dashboard.py -q

W&B's API object is replaced by `FakeApi` (it answers the two GraphQL calls the models
make: a project's internal id and the view upsert), as wandb-workspaces' own tests do.
The keys every panel reads are checked against a real offline run made here.
"""

from __future__ import annotations

import json
import os
import struct
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import wandb
import wandb_workspaces.reports.v2 as wr
import wandb_workspaces.workspaces as ws
from test_wandb import _ctx, offline  # noqa: F401  (offline: autouse, no network)
from wandb.proto import wandb_internal_pb2 as pb
from wandb_workspaces import expr
from wandb_workspaces.reports.v2 import internal as report_internal
from wandb_workspaces.workspaces import internal as workspace_internal

from unlearn.config.errors import ConfigError
from unlearn.experiment.job import run_job
from unlearn.experiment.preflight import compose_run
from unlearn.loggers import dashboard as db
from unlearn.loggers import sync

SNAPSHOT = Path(__file__).parent / "snapshots" / "dashboard.json"
REPORT_MD = """# Sweep report

## Runs

2 ok.

## Pearson r(e, v)

| family | r |
| --- | --- |
| along γ | 0.97 |

![e against v](figures/correlation_gamma.png)

## Leaderboard: unlearning methods against the lock-step twin

| method | v/v_none |
| --- | --- |
| single_gradient | 0.85 |
"""
SWEEP = db.Sweep(
    folder="multirun/fig11_gamma/2026-12-01_08-00-00",
    entity="myteam",
    project="unlearn",
    group="fig11_gamma/2026-12-01_08-00-00",
    runs=7,
    varied=("gamma", "unlearn.method"),
    report_md=REPORT_MD,
)


class FakeService:
    """W&B's GraphQL transport: records each call, answers like the server."""

    app_url = "https://wandb.test"

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def execute_graphql(self, query: str, variables: dict | None = None, **_: Any) -> dict:
        v = dict(variables or {})
        self.calls.append((query, v))
        if "ProjectInternalId" in query:
            return {"project": {"id": "p1", "internalId": "UHJvamVjdDox"}}
        if "upsertView" in query:
            view = {"id": v.get("id") or f"view{len(self.calls)}", "name": v.get("name") or ""}
            view |= {"displayName": v["displayName"], "description": v.get("description", "")}
            view |= {"project": {"name": v["projectName"], "entityName": v["entityName"]}}
            return {"upsertView": {"view": view | {"spec": v["spec"]}, "inserted": "id" not in v}}
        raise AssertionError(f"unexpected query: {query[:80]}")

    def upserts(self) -> list[dict[str, Any]]:
        return [v for q, v in self.calls if "upsertView" in q]


class FakeApi:
    """`wandb.Api()` without a server: the parts wandb-workspaces touches."""

    def __init__(self, service: FakeService) -> None:
        self._service_api = service  # wandb-workspaces sends GraphQL through this
        self.default_entity = "me"

    def projects(self, entity: str) -> list[SimpleNamespace]:
        return [SimpleNamespace(name="unlearn")]

    def create_project(self, *args: Any) -> None:
        raise AssertionError("the project exists")


@pytest.fixture
def api(monkeypatch) -> FakeService:
    service = FakeService()
    monkeypatch.setattr(wandb, "Api", lambda *a, **k: FakeApi(service))
    return service


def _models(sweep: db.Sweep) -> dict[str, Any]:
    """The wire models (what `save` sends) of the workspace and the report."""
    return {"workspace": db.workspace(sweep)._to_model(), "report": db.report(sweep)._to_model()}


def _dump(model: Any) -> dict:
    return json.loads(model.model_dump_json(by_alias=True, exclude_none=True))


def test_models_match_the_committed_snapshot(api):
    now = {name: _dump(m) for name, m in _models(SWEEP).items()}
    assert now == {name: _dump(m) for name, m in _models(SWEEP).items()}  # no random ids
    if os.environ.get("UNLEARN_UPDATE_SNAPSHOTS"):
        SNAPSHOT.parent.mkdir(exist_ok=True)
        SNAPSHOT.write_text(json.dumps(now, indent=1, sort_keys=True, ensure_ascii=False) + "\n")
    assert now == json.loads(SNAPSHOT.read_text()), "regenerate: UNLEARN_UPDATE_SNAPSHOTS=1"


def test_sections_and_figures_as_built():
    space = db.workspace(SWEEP)
    names = [s.name for s in space.sections]
    assert names == ["Training", "Window", "Unlearning", "Sweep"]
    assert [len(s.panels) for s in space.sections] == [4, 5, 4, 1]
    assert space.runset_settings.groupby == [expr.Config("gamma"), expr.Config("unlearn.method")]
    assert "Group" in space.runset_settings.filters and SWEEP.group in space.runset_settings.filters
    blocks = db.report(SWEEP).blocks
    headings = [b.text for b in blocks if isinstance(b, wr.H2)]
    assert [h.split(":")[0] for h in headings[:4]] == [
        "Fig. 9",
        "Fig. 11",
        "Fig. 12",
        "Leaderboard",
    ]
    texts = [b.text for b in blocks if isinstance(b, wr.MarkdownBlock)]
    assert texts[0].startswith("## Pearson r(e, v)") and "figures/correlation_gamma.png" in texts[0]
    assert "![" not in texts[0]  # a report cannot show files relative to the sweep folder
    assert texts[1].startswith("## Leaderboard") and texts[2] == "## Runs\n\n2 ok."


def test_models_round_trip_through_json(api):
    """JSON → model → SDK object → model, as `Workspace.from_url`/`Report.from_url` load
    a saved view: the same model comes back (a report's bare JSON → model gives
    ``inline_comments=[]`` for None, which the SDK object turns back; hence via it)."""
    models = _models(SWEEP)
    view, rep = models["workspace"], models["report"]
    view_json = view.model_dump_json(by_alias=True, exclude_none=True)  # as `save` sends it
    rep_json = rep.model_dump_json(by_alias=True, exclude_none=True)
    assert workspace_internal.View.model_validate_json(view_json) == view
    loaded = ws.Workspace._from_model(workspace_internal.View.model_validate_json(view_json))
    assert loaded._to_model() == view
    loaded_report = wr.Report._from_model(
        report_internal.ReportViewspec.model_validate_json(rep_json)
    )
    assert loaded_report._to_model() == rep


def test_save_creates_then_updates_the_same_views(api, tmp_path):
    sweep = replace(SWEEP, folder=str(tmp_path))
    space_url, report_url = db.publish(sweep)
    first = api.upserts()
    assert len(first) == 2 and "id" not in first[0] and first[1]["id"] is None  # created
    assert first[0]["type"] == "project-view" and first[1]["type"] == "runs"
    assert json.loads(first[0]["spec"]) == _dump(db.workspace(sweep)._to_model())["spec"]
    assert space_url.startswith("https://wandb.test/myteam/unlearn?nw=")
    assert report_url.startswith("https://wandb.test/myteam/unlearn/reports/")
    state = json.loads((tmp_path / "wandb" / "dashboard.json").read_text())[sweep.group]
    db.publish(sweep)
    again = api.upserts()[2:]
    assert again[0]["id"] == state["workspace_id"] and again[0]["name"] == state["workspace_name"]
    assert again[1]["id"] == state["report_id"]  # updated, not a second report


def _sweep_folder(root: Path, jobs: list[list[str]], **logger: Any) -> Path:
    """A sweep folder with one results.json (and Hydra's overrides.yaml) per job."""
    for num, overrides in enumerate(jobs):
        job = root / str(num)
        (job / ".hydra").mkdir(parents=True)
        (job / ".hydra" / "overrides.yaml").write_text("".join(f"- {o}\n" for o in overrides))
        wandb_node = {"_target_": "unlearn.loggers.wandb_logger.WandbLogger", "project": "unlearn"}
        wandb_node |= {"entity": None, "group": "fig11_gamma_mini/t0"}
        wandb_node["mode"] = logger.get("mode", "offline")
        config = {"gamma": 0.0, "unlearn": {"method": "single_gradient"}}
        config |= {"model": {"_target_": "unlearn.models.SmallCNN"}}
        config["logger"] = {"mode": "offline", "dashboard": False, "wandb": wandb_node} | logger
        (job / "results.json").write_text(json.dumps({"status": "ok", "config": config}))
    return root


def test_varied_keys_name_config_keys_and_stand_in_for_config_groups(tmp_path):
    jobs = [["+sweep=x", "gamma=0", "unlearn=scrub", "model=resnet18", "lr=0.01", "logger=wandb"]]
    jobs += [["+sweep=x", "gamma=5", "unlearn=fine_tune", "model=vgg19", "lr=0.01", "logger=wandb"]]
    (sweep,) = db.read_sweeps(_sweep_folder(tmp_path, jobs))
    assert sweep.varied == ("gamma", "unlearn.method", "model._target_")  # lr: one value
    assert (sweep.group, sweep.runs, sweep.project, sweep.entity) == (
        "fig11_gamma_mini/t0",
        2,
        "unlearn",
        None,
    )


def test_entity_and_project_from_flags_then_config_then_environment(tmp_path, monkeypatch):
    root = _sweep_folder(tmp_path, [["gamma=0"]])
    monkeypatch.setenv("WANDB_ENTITY", "envteam")
    monkeypatch.setenv("WANDB_PROJECT", "envproject")
    (sweep,) = db.read_sweeps(root)
    assert (sweep.entity, sweep.project) == ("envteam", "unlearn")  # the config names a project
    (sweep,) = db.read_sweeps(root, ["--entity", "flagteam", "--project=flagproject"])
    assert (sweep.entity, sweep.project) == ("flagteam", "flagproject")


def test_offline_the_command_prints_one_line_and_creates_nothing(tmp_path, capsys, api):
    root = _sweep_folder(tmp_path, [["gamma=0"], ["gamma=5"]])
    status = sync.main([str(root), "--dashboard"])  # WANDB_MODE=offline (fixture `offline`)
    out = capsys.readouterr().out
    assert status == db.OFFLINE_STATUS == 3 and api.calls == []
    assert out.count("\n") == 1 and out.startswith(
        "dashboard: nothing saved (WANDB_MODE=offline); would save"
    )
    assert 'would save workspace "unlearn fig11_gamma_mini/t0" (4 sections, 14 panels)' in out
    assert "over the 2 runs of group fig11_gamma_mini/t0" in out
    assert f"`python -m unlearn.sync {root} --dashboard`" in out
    assert not (root / "wandb" / "dashboard.json").exists()


def test_a_folder_without_wandb_jobs_is_refused_in_one_line(tmp_path, capsys):
    assert sync.main([str(tmp_path), "--dashboard"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith(f"error: sweep_dir={str(tmp_path)!r}: no W&B job below it")


def test_an_online_sweep_that_asked_for_it_saves_both_after_its_analysis(tmp_path, api, capsys):
    root = _sweep_folder(tmp_path, [["gamma=0"], ["gamma=5"]], mode="online", dashboard=True)
    os.environ.pop("WANDB_MODE")  # the fixture's; monkeypatch restores it
    db.after_analysis(root)
    assert len(api.upserts()) == 2 and "dashboard: report" in capsys.readouterr().out
    root = _sweep_folder(tmp_path / "off", [["gamma=0"]], dashboard=True)  # jobs ran offline
    db.after_analysis(root)
    out = capsys.readouterr().out
    assert len(api.upserts()) == 2 and out.startswith(
        "dashboard: nothing saved (the jobs ran offline, not synced yet)"
    )


def _records(path: Path) -> list[pb.Record]:
    """The records of an offline run's .wandb file. Hand-written (LevelDB's log format:
    32 KiB blocks of [crc32, length, type] chunks after a 7-byte header) because wandb
    0.31 ships no Python reader of it (its datastore moved into the Go core)."""
    data, records, buf, pos, block = path.read_bytes(), [], b"", 7, 32768
    assert data[:4] == b":W&B"
    while pos + 7 <= len(data):
        if block - pos % block < 7:  # a block's tail too short for a header: padding
            pos += block - pos % block
            continue
        _, length, kind = struct.unpack("<IHB", data[pos : pos + 7])
        chunk, pos = data[pos + 7 : pos + 7 + length], pos + 7 + length
        buf = chunk if kind in (1, 2) else buf + chunk  # FULL, FIRST | MIDDLE, LAST
        if kind in (1, 4):
            record = pb.Record()
            record.ParseFromString(buf)
            records.append(record)
    return records


def _key(item: Any) -> str:
    """A history or summary item's key (W&B writes it as `key` or as `nested_key`)."""
    return item.key or ".".join(item.nested_key)


def _flat(prefix: str, value: Any) -> set[str]:
    if not isinstance(value, dict):
        return {prefix}
    return {prefix} | {k for key, v in value.items() for k in _flat(f"{prefix}.{key}", v)}


def test_every_key_a_panel_reads_is_one_a_real_run_logs(make_cfg, tmp_path):
    cfg = make_cfg("logger=wandb", "gamma=4", "curves.test_every=6")  # window/test_acc too
    assert run_job(cfg, _ctx(tmp_path, 4))["status"] == "ok"
    wandb.teardown()  # flush the offline file
    (path,) = tmp_path.glob("wandb/offline-run-*/run-*.wandb")
    rows, summary, config = [], set(), set()
    for r in _records(path):
        kind = r.WhichOneof("record_type")
        if kind == "history":
            rows.append({_key(item) for item in r.history.item})
        elif kind == "summary":
            summary |= {_key(item) for item in r.summary.update}
        elif kind == "config":
            for item in r.config.update:
                config |= _flat(_key(item), json.loads(item.value_json))
    history = set().union(*rows)
    (sweep,) = db.read_sweeps(tmp_path)
    assert (sweep.group, sweep.project) == ("fig9_t_mini/sweep", "unlearn")
    sweep = replace(sweep, varied=("gamma", "unlearn.method"))
    space, rep = db.workspace(sweep), db.report(sweep)
    panels = db.all_panels(space, rep)
    keys = db.panel_keys(panels)
    keys["config"] |= {g.name for g in space.runset_settings.groupby}
    assert keys["history"] - history == set()
    assert keys["summary"] - summary == set()  # scatter, bar and parallel plots: summary
    assert keys["config"] - config == set()
    for p in panels:  # each curve against its x: logged together, in the same rows
        if isinstance(p, wr.LinePlot):
            for y in p.y:
                assert any({p.x, y} <= row for row in rows), (p.x, y)
    assert {"model", "data", "v_ratio", "cost_gradient_evaluations"} <= summary


def test_logger_dashboard_is_a_typed_option_refused_in_one_line_when_not_a_bool():
    assert compose_run(["logger=wandb", "logger.dashboard=true"]).logger.dashboard is True
    assert compose_run(["logger=wandb"]).logger.dashboard is False  # off unless asked
    with pytest.raises(ConfigError) as err:
        compose_run(["logger=wandb", "logger.dashboard=maybe"])
    assert str(err.value) == "logger.dashboard='maybe': allowed true or false"
