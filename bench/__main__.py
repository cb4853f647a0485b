"""Run every benchmark and print one table of figures against their goals; write it to
docs/benchmarks.md. Each figure is a ratio to a reference measured in the same run.

Run: python -m bench   (or make bench)
"""

from __future__ import annotations

import datetime as dt
import platform
from pathlib import Path

from bench import (browser, conv_speed, draw_browser, draw_page, dream_speed, drawn_digits,
                   five_sessions, map_speed, memory, predict_path, robustness_speed,
                   stroke_digits, trainer_overhead, unit_speed)

DOCS = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"


def rows() -> list[tuple[str, str, str, bool | None]]:
    """(what, measured, goal, met) for every figure."""
    out = []
    t = trainer_overhead.main()
    out.append(("Live trainer vs bare `model.fit` (throughput)",
                f"{t['ratio']:.3f} ({t['app_images_per_s']:,.0f} vs {t['bare_images_per_s']:,.0f} "
                "images/s)", "≥ 0.95", t["ratio"] >= 0.95))
    out += predict_rows(predict_path.main(), draw_page.main())
    for k, ratio in conv_speed.main().items():
        out.append((f"Conv lab {k}×{k} on 512×512 vs `scipy.ndimage.correlate`", f"{ratio:.2f}×",
                    "≤ 1.5×", ratio <= 1.5))
    out += dream_rows(dream_speed.main())
    u = unit_speed.main()
    out.append(("Inside page: one conv2 unit worked out vs the bare layer call (median)",
                f"{u['unit_median_ms']:.1f} ms ({u['ratio']:.0f}× {u['bare_median_ms']:.2f} ms; "
                f"p95 {u['unit_p95_ms']:.1f} ms)", "≤ 100 ms", u["unit_median_ms"] <= 100))
    e = map_speed.main()
    out.append(("Embedding map of 5,000 MNIST test images for LeNet-5, built (median of 3)",
                f"{e['build_s']:.2f} s ({e['build_s'] / e['bare_build_s']:.1f}× the bare model "
                f"over the same images, {e['bare_build_s']:.2f} s)", "≤ 5 s", e["build_s"] <= 5))
    out.append(("Embedding map: a drawing's point, 8 nearest test images, figure and picture "
                "(server, median)", f"{e['point_median_ms']:.1f} ms (p95 {e['point_p95_ms']:.1f}"
                f" ms; bare model call {e['bare_median_ms']:.2f} ms)", "≤ 100 ms",
                e["point_median_ms"] <= 100))
    r = robustness_speed.main()
    out.append(("Robustness lab: one slider change, all seven corruptions on (server, median)",
                f"{r['slider']['median_ms']:.1f} ms (p95 {r['slider']['p95_ms']:.1f} ms; "
                f"{r['slider_ratio']:.0f}× the bare model call)", "—", None))
    out.append((f"Robustness lab: a rotation curve of {r['curve_images']:,} classified images",
                f"{r['curve_s']:.2f} s ({r['curve_ratio']:.2f}× plain prediction of as many)",
                "—", None))
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
    out += accuracy_rows()
    m = memory.in_fresh_process()
    out.append((f"Server memory (VmRSS) over {m['drawings']} Draw-page drawings and "
                f"{m['trainings']} trainings, growth after warm-up",
                f"{m['growth']:+.1%} ({m['start_mb']:,.0f} → {m['end_mb']:,.0f} MB; drawings "
                f"{m['drawings_growth']:+.1%}, then each training "
                f"{', '.join(f'{mb:+.0f}' for mb in m['per_training_mb'])} MB; the warm-up's "
                f"first training {m['first_training_mb']:+.0f} MB once)", "≤ 10%",
                m["growth"] <= 0.10))
    return out


def accuracy_rows() -> list:
    """The shipped model on MNIST's test set and on both stand-ins for pen drawings."""
    mnist = stroke_digits.mnist_accuracy()
    rows = [("Shipped model: MNIST test accuracy (10,000 digits)", f"{mnist:.2%}", "≥ 99.3%",
             mnist >= 0.993)]
    strokes = stroke_digits.main_accuracy()
    for name, goal in (("dev", None), ("held-out", 0.97)):
        s = strokes[name]
        rows.append((f"Stroke-built pen digits, {name} writers ({s['n']:,}), per class 0–9",
                     f"{s['accuracy']:.2%} ({stroke_digits.classes(s['per_class'])})",
                     "—" if goal is None else f"≥ {goal:.0%}",
                     None if goal is None else s["accuracy"] >= goal))
    acc = drawn_digits.main_accuracy()
    rows.append(("Drawn-digit stand-in set (2,000 re-drawn MNIST test digits)", f"{acc:.2%}",
                 "≥ 95%", acc >= 0.95))
    return rows


def _medians(s: dict) -> str:
    """bench.draw_browser's app vs bare page medians, as ratio (app vs bare ms)."""
    return f"{s['ratio']:.2f}× ({s['app_median']:.0f} vs {s['bare_median']:.0f} ms)"


def _vs_bare(what: str, s: dict, goal: str, bound: float):
    return what, _medians(s), goal, s["ratio"] <= bound


def ms(r: dict) -> str:
    return f"{r['median_ms']:.2f} / {r['best_ms']:.2f}"


def predict_rows(p: dict, d: dict) -> list:
    """The draw → predict path against the model alone called as the Probe calls it, with and
    without XLA (median / best-of on both sides), and the Draw page's whole server time."""
    rows = []
    for ref, what, goal in (("bare_xla", "compiled with XLA, as the path is", True),
                            ("bare", "plain graph", False)):
        ratio = p[f"ratio_{ref}_median"]
        rows.append((f"Draw → predict path vs bare concrete function, {what} "
                     "(median / best-of)",
                     f"{ratio:.2f}× / {p[f'ratio_{ref}_best']:.2f}× ({ms(p['path'])} vs "
                     f"{ms(p[ref])} ms)", "≤ 1.3×" if goal else "—",
                     ratio <= 1.3 if goal else None))
    rows.append(("Draw → predict path, p95", f"{p['path']['p95_ms']:.2f} ms", "≤ 20 ms",
                 p["path"]["p95_ms"] <= 20))
    page, bare = d["page"], d["bare_xla"]
    rows.append(("Draw page, whole server time per drawing vs bare XLA call (median / p95)",
                 f"{d['ratio_median']:.0f}× / {d['ratio_p95']:.0f}× ({page['median_ms']:.1f} / "
                 f"{page['p95_ms']:.1f} vs {bare['median_ms']:.2f} / {bare['p95_ms']:.2f} ms)",
                 "—", None))
    return rows


def dream_rows(d: dict) -> list:
    return [
        (f"Activation maximization, 10 classes × 200 steps (best of {d['repeats']})",
         f"{d['seconds']:.2f} s ({d['ratio_zeroed']:.2f}× the same loop with its regularisers "
         f"at 0, {d['ratio_plain']:.2f}× a plain loop without them)", "≤ 1 s",
         d["seconds"] <= 1.0),
        ("Activation maximization, classes recognised by an independently trained `mnist_cnn`",
         f"{d['recognised']} of 10 (without regularisers {d['recognised_unregularised']} of 10; "
         f"judge's test accuracy {d['judge_accuracy']:.2%})", "≥ 8 of 10",
         d["recognised"] >= 8),
    ]


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
