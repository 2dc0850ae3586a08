"""The Curvature section: one table row per run that logged the spectrum, with its v/v_none
and costs, and one figure (top-k against step, density at the first and last event)."""

from unlearn.analyze.curvature import render


def _row(job, method, k):
    return {
        "job": job,
        "status": "ok",
        "method": method,
        "overrides": [f"unlearn={method}", "+sweep=curvature"],
        "lr": 0.01,
        "sigma_avg": 30.0,
        "t": 45,
        "v_ratio": 0.25,
        "spectrum_products": 202,
        "unlearn_cost": {"hessian_vector_products": 44},
        "curves": {
            "spectrum_step": [10, 45],
            "hessian_top_eigenvalues": [[30.0 - j for j in range(k)], [35.0 - j for j in range(k)]],
            "hessian_trace": [150.0, 180.0],
            "hessian_trace_se": [20.0, 25.0],
            "hessian_density": [
                {"nodes": [[0.0, 10.0, 30.0]], "weights": [[0.9, 0.07, 0.03]]},
                {"nodes": [[0.0, 12.0, 35.0]], "weights": [[0.9, 0.07, 0.03]]},
            ],
        },
    }


def test_section_tables_and_draws_each_run(tmp_path):
    rows = [_row("0", "unrolled", 1), _row("1", "damped_gradient", 5), {"job": "2", "curves": {}}]
    text = render(rows, tmp_path)
    assert text.startswith("## Curvature")
    assert "| unlearn=unrolled | unrolled | 1 | 0.250 | 13.20 | 44 | 202 | 180 ± 25 |" in text
    assert "| unlearn=damped_gradient | damped_gradient | 5 |" in text
    figures = sorted(p.name for p in (tmp_path / "figures").glob("curvature*.png"))
    assert len(figures) == 2 and all(f"({'figures/' + f})" in text for f in figures)


def test_section_says_when_no_run_logged_the_spectrum(tmp_path):
    assert "No run logged" in render([{"job": "0", "curves": {"sigma": [1.0]}}], tmp_path)


def test_a_run_without_density_gets_one_panel_not_a_blank_half(tmp_path, monkeypatch):
    """A methods sweep logs the top-k eigenvalues but no density: one panel is drawn, and
    the run's name wraps inside it."""
    from unlearn.analyze import plots

    drawn: list[int] = []
    panels = plots.panels
    monkeypatch.setattr(plots, "panels", lambda n, **kw: (drawn.append(n), panels(n, **kw))[1])
    row = _row("0", "damped_gradient", 5)
    row["curves"]["hessian_density"] = []
    row["overrides"] = [f"twin.order_noise=True seed=0 logger=none forget=first_batch m{i}=x"
                        for i in range(2)]  # fmt: skip
    render([row, _row("1", "unrolled", 1)], tmp_path)
    assert drawn == [1, 2]
