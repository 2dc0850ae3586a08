"""Section "Curvature": the Hessian's top-k eigenvalues along the window and its spectral
density (stochastic Lanczos quadrature, smoothed) at the first and last tracking event,
for each run that logged them (`HessianCurvature`), and v/v_none beside the method's
cost in Hessian-vector products (docs/curvature.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from unlearn.analyze import plots
from unlearn.math.spectrum import Density

MAX_RUNS = 6  # figures drawn (the table lists every run)


def _density_line(ax: Any, density: dict[str, Any], label: str, colour: str) -> None:
    d = Density(density["nodes"], density["weights"], 0)
    nodes = np.concatenate([np.asarray(n) for n in d.nodes])
    lo, hi = float(nodes.min()), float(nodes.max())
    pad = 0.05 * (hi - lo or 1.0)
    grid = np.linspace(lo - pad, hi + pad, 400)
    ax.plot(grid, d.smoothed(grid, 0.01 * (hi - lo or 1.0)), color=colour, label=label, lw=1.2)


def _name(run: dict[str, Any]) -> str:
    """The run's overrides without the sweep's own (its job folder when it has none)."""
    return " ".join(o for o in run.get("overrides") or [] if "sweep=" not in o) or run["job"]


def _figure(run: dict[str, Any], out_dir: Path, name: str) -> str:
    curves = run["curves"]
    steps, tops = curves["spectrum_step"], curves["hessian_top_eigenvalues"]
    densities = curves.get("hessian_density") or []
    fig, axes = plots.panels(2 if densities else 1)  # no density: one panel, not a blank half
    left = axes[0]
    k = max(len(t) for t in tops)
    for j in range(k):
        xs = [s for s, t in zip(steps, tops, strict=True) if len(t) > j]
        ys = [t[j] for t in tops if len(t) > j]
        left.plot(
            xs, ys, marker=".", lw=1, label=f"λ_{j + 1}" if k <= 5 or j in (0, k - 1) else None
        )
    left.set_xlabel("window step t")
    left.set_ylabel("eigenvalue (largest |λ| first)")
    plots.title(left, f"top-{k} Hessian eigenvalues", _name(run))
    left.legend(fontsize=6)
    if densities:
        right = axes[1]
        _density_line(right, densities[0], f"step {steps[0]}", "tab:blue")
        _density_line(right, densities[-1], f"step {steps[-1]}", "tab:red")
        right.set_yscale("log")
        right.set_ylim(1e-5, 3 * max(line.get_ydata().max() for line in right.lines))
        right.set_xlabel("eigenvalue λ")
        right.set_ylabel("spectral density (SLQ, smoothed)")
        right.set_title("spectral density\nat the first and last tracking event", fontsize=7)
        right.legend(fontsize=6)
    return plots.save(fig, out_dir, name)


def render(rows: list[dict[str, Any]], out_dir: Path) -> str:
    runs = [r for r in rows if (r.get("curves") or {}).get("hessian_top_eigenvalues")]
    if not runs:
        return "## Curvature\n\nNo run logged the Hessian spectrum beyond σ.\n"
    lines = [
        "## Curvature",
        "",
        "| run | method | k | v/v_none | η·σ_avg·(t−1) | method HVPs | spectrum HVPs "
        "| tr(H) last ± SE |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in runs:
        c, cost = r["curves"], r.get("unlearn_cost") or {}
        trace = c.get("hessian_trace") or []
        se = c.get("hessian_trace_se") or []
        tr = f"{trace[-1]:.3g} ± {se[-1]:.2g}" if trace and se else "-"
        eta_sigma_t = r.get("lr", np.nan) * r.get("sigma_avg", np.nan) * (r.get("t", 1) - 1)
        k = len(c["hessian_top_eigenvalues"][-1])
        lines.append(
            f"| {_name(r)} | {r.get('method', '-')} | {k} | {r.get('v_ratio', np.nan):.3f} | "
            f"{eta_sigma_t:.2f} | {cost.get('hessian_vector_products', '-')} | "
            f"{r.get('spectrum_products', '-')} | {tr} |"
        )
    lines.append("")
    for i, run in enumerate(runs[:MAX_RUNS]):
        path = _figure(run, out_dir, plots.slug("curvature", i, run["job"]))
        lines.append(f"![curvature {run['job']}]({path})")
    return "\n".join(lines) + "\n"
