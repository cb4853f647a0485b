"""Run every benchmark and print one table of figures against their goals; write it to
docs/benchmarks.md. Each figure is a ratio to a reference measured in the same run.

Run: python -m bench   (or make bench)
"""

from __future__ import annotations

import datetime as dt
import platform
from pathlib import Path

from bench import (browser, conv_speed, draw_browser, dream_speed, drawn_digits, five_sessions,
                   predict_path, trainer_overhead)

DOCS = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"


def rows() -> list[tuple[str, str, str, bool | None]]:
    """(what, measured, goal, met) for every figure."""
    out = []
    t = trainer_overhead.main()
    out.append(("Live trainer vs bare `model.fit` (throughput)",
                f"{t['ratio']:.3f} ({t['app_images_per_s']:,.0f} vs {t['bare_images_per_s']:,.0f} "
                "images/s)", "≥ 0.95", t["ratio"] >= 0.95))
    p = predict_path.main()
    out.append(("Draw → predict path vs bare compiled call (median)",
                f"{p['ratio']:.2f}× ({p['path_median_ms']:.2f} vs {p['bare_median_ms']:.2f} ms)",
                "≤ 1.3×", p["ratio"] <= 1.3))
    out.append(("Draw → predict path vs bare call compiled with XLA, as the path is (median)",
                f"{p['ratio_xla']:.2f}× ({p['path_median_ms']:.2f} vs "
                f"{p['bare_xla_median_ms']:.2f} ms)", "—", None))
    out.append(("Draw → predict path, p95", f"{p['path_p95_ms']:.2f} ms", "≤ 20 ms",
                p["path_p95_ms"] <= 20))
    for k, ratio in conv_speed.main().items():
        out.append((f"Conv lab {k}×{k} on 512×512 vs `scipy.ndimage.correlate`", f"{ratio:.2f}×",
                    "≤ 1.5×", ratio <= 1.5))
    d = dream_speed.main()
    out.append(("Activation maximization, 10 classes × 200 steps",
                f"{d['seconds']:.2f} s ({d['ratio']:.2f}× 200 bare gradient calls)", "≤ 1 s",
                d["seconds"] <= 1.0))
    out.append(("Activation maximization, lowest self-probability",
                f"{d['min_self_prob']:.4f}", "≥ 0.9", d["min_self_prob"] >= 0.9))
    b = browser.main()
    out.append(("Cold start to first painted page vs bare one-page app",
                f"{b['cold_ratio']:.2f}× ({b['cold_start_s']:.1f} vs {b['bare_cold_start_s']:.1f} s)",
                "—", None))
    out.append(("Page switch in Chromium (median / slowest)",
                f"{b['switch_median_s']:.2f} / {b['switch_max_s']:.2f} s", "—", None))
    w = draw_browser.main()
    out.append(_vs_bare("Draw page vs bare canvas page: pen lifted → answer painted (median)",
                        w["painted"], "≤ 1.2×", 1.2))
    out.append(_vs_bare("Draw page vs bare canvas page: renderer main-thread time per drawing "
                        "(median)", w["busy"], "≤ 2×", 2.0))
    out.append(("Page switch to Draw vs bare two-page app",
                f"{_medians(w['switch_painted'])} to painted; main thread "
                f"{_medians(w['switch_busy'])}", "—", None))
    out.append(("Train page renderer busy while training vs idle bare page",
                f"{w['train_busy']:.0%} vs {w['idle_busy']:.1%} of the time "
                f"({w['train_ratio']:.0f}×)", "—", None))
    f = five_sessions.main()
    out.append(("Five sessions (one training, four drawing): pen lifted → answer on screen, "
                "p95 of the four", f"{f['shown_p95_s']:.2f} s (reached the pages after "
                f"{f['arrived_p95_s']:.2f} s)", "≤ 2 s", f["shown_p95_s"] <= 2.0))
    acc = drawn_digits.main_accuracy()
    out.append(("Drawn-digit stand-in set (2,000 re-drawn MNIST test digits)", f"{acc:.2%}",
                "≥ 95%", acc >= 0.95))
    return out


def _medians(s: dict) -> str:
    """bench.draw_browser's app vs bare page medians, as ratio (app vs bare ms)."""
    return f"{s['ratio']:.2f}× ({s['app_median']:.0f} vs {s['bare_median']:.0f} ms)"


def _vs_bare(what: str, s: dict, goal: str, bound: float):
    return what, _medians(s), goal, s["ratio"] <= bound


def table(results) -> str:
    lines = ["| figure | measured | goal | met |", "|---|---|---|---|"]
    for what, measured, goal, met in results:
        lines.append(f"| {what} | {measured} | {goal} | "
                     f"{'—' if met is None else 'yes' if met else '**no**'} |")
    return "\n".join(lines)


def main() -> None:
    results = rows()
    text = table(results)
    print("\n" + text)
    DOCS.write_text(
        "# Benchmarks\n\n"
        f"Measured by `make bench` on {dt.date.today():%Y-%m-%d}, {platform.machine()}, "
        f"{platform.python_implementation()} {platform.python_version()}, CPU only. Each "
        "figure is measured against its reference in the same run; ratios move less than "
        "absolute times on a shared machine.\n\n" + text + "\n")
    print(f"\nwritten to {DOCS.relative_to(DOCS.parent.parent)}")


if __name__ == "__main__":
    main()
