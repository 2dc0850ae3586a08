"""`make bench`: every benchmark in one process, a table on stdout, bench/results.json on disk.

All figures are ratios measured side by side (same model, data and batches, interleaved
repetitions after a warm-up), so they mean the same on a busy or an idle machine as far
as possible. Targets from issue 7 are printed next to each.
"""

from __future__ import annotations

import json
import platform
import sys
import time
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import curvature_overhead  # noqa: E402
import loop_overhead  # noqa: E402
import memory  # noqa: E402
import sigma_engine  # noqa: E402
import tracking_overhead  # noqa: E402
import twin  # noqa: E402


def _fmt_ratio(r: dict) -> str:
    return f"{r['median']:.3f}  [{r['min']:.3f}, {r['max']:.3f}]"


def _fmt_attr(r: dict) -> str:
    return f"{r['attributed_median']:.3f}  [max {r['attributed_max']:.3f}]"


def main() -> None:
    start = time.perf_counter()
    loop = loop_overhead.measure()
    tracking = tracking_overhead.measure()
    tw = twin.measure()
    sigma = sigma_engine.measure()
    mem = memory.measure()
    curvature = curvature_overhead.measure()
    results = {
        "machine": {
            "cpu": platform.processor() or platform.machine(),
            "threads": torch.get_num_threads(),
            "torch": torch.__version__,
        },
        "loop_overhead": loop,
        "tracking_overhead_400": tracking["track_every_400"],
        "tracking_overhead_100": tracking["track_every_100"],
        "twin_ratio": tw["twin_ratio"],
        "unlearn_speedup": tw["unlearn_speedup"],
        "sigma_engine": sigma,
        "peak_memory": mem,
        "curvature_overhead": curvature,
    }
    cifar = loop["CIFAR-shaped small CNN"]["ratio"]
    rows = [
        ("loop overhead, digits CNN b=32", _fmt_ratio(loop["digits small CNN"]["ratio"]), "-"),
        ("loop overhead, CIFAR-shaped CNN b=32", _fmt_ratio(cifar), "<= 1.10"),
        ("tracking overhead, every 400", _fmt_ratio(results["tracking_overhead_400"]), "<= 1.05"),
        (
            "  (in-run attributed, every 400)",
            _fmt_attr(results["tracking_overhead_400"]),
            "<= 1.05",
        ),
        ("tracking overhead, every 100", _fmt_ratio(results["tracking_overhead_100"]), "<= 1.15"),
        (
            "  (in-run attributed, every 100)",
            _fmt_attr(results["tracking_overhead_100"]),
            "<= 1.15",
        ),
        ("twin window / plain window", _fmt_ratio(results["twin_ratio"]), "<= 2.10"),
        (
            "unlearning speed-up (twin retrain s / update s)",
            f"{tw['unlearn_speedup']['median']:.1f}x",
            "-",
        ),
    ]
    for name in ("power_cold", "power_warm", "lanczos_cold", "lanczos_warm", "pyhessian"):
        s = sigma[name]
        rows.append(
            (
                f"σ {name}: HVPs/estimate, max rel err",
                f"{s['hvps_per_estimate']:.1f}, {s['max_rel_error']:.1e}",
                f"tol {sigma['tolerance']:g}",
            )
        )
    for name in ("lanczos", "power"):  # λ₂ within 1-10 % of λ₁, warm starts on/near λ₂
        s = sigma["hard"][name]
        rows.append(
            (
                f"σ {name}, close λ₁ λ₂: HVPs/estimate, max rel err",
                f"{s['hvps_per_estimate']:.1f}, {s['max_rel_error']:.1e}",
                f"tol {sigma['tolerance']:g}, max_iter {sigma['hard']['max_iter']}",
            )
        )
    rows.append(
        (
            "Hessian curvature callback (default schedule) / none",
            _fmt_ratio(curvature["curvature_vs_none"]),
            "-",
        )
    )
    rows.append(
        ("  σ alone / none", _fmt_ratio(curvature["sigma_only_vs_none"]), "-"),
    )
    for key, value in mem.items():
        rows.append((f"peak RSS: {key.removesuffix('_peak_mib')}", f"{value:.0f} MiB", "-"))
    width = max(len(r[0]) for r in rows)
    print(f"{'benchmark':<{width}}  {'median  [min, max]':<28}  target")
    for name, value, target in rows:
        print(f"{name:<{width}}  {value:<28}  {target}")
    results["wall_time_s"] = time.perf_counter() - start
    (HERE / "results.json").write_text(json.dumps(results, indent=2))
    print(f"wrote {HERE / 'results.json'} in {results['wall_time_s']:.0f} s")


if __name__ == "__main__":
    main()
