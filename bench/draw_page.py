"""The Draw page's whole server time per drawing vs a bare call of the same model.

Everything pages/draw.py computes for one drawing, through the same functions and without
Streamlit: the canvas's pixels to the model input, the Probe (probabilities and every feature
map), SmoothGrad and Grad-CAM from the Explainer the page caches, and the four PNG pictures
(probability bars, the overlays, the preprocessing stages, the first layer's feature maps, the
layer the page shows first). Not included: Streamlit's own work (the script run, sending the
PNGs) and the "Show the numbers" tables, off by default. Reference: the model alone as the
XLA-compiled concrete function of bench.predict_path, on the same prepared inputs, interleaved.

Run: python -m bench.draw_page
"""

from __future__ import annotations

import itertools

import numpy as np

DIGITS = [str(d) for d in range(10)]


class Server:
    """What the page's cached resources hold for the shipped model: one Probe, and the
    Explainer built on the Probe's model (cnnviz.ui.resources)."""

    def __init__(self):
        from cnnviz import explain, models

        self.probe = explain.Probe(models.load(models.SHIPPED_MODEL))
        self.explainer = explain.Explainer(self.probe.model)


def serve(server: Server, canvas: np.ndarray) -> list[bytes]:
    """One drawing, as pages/draw.py handles it with its default choices; the PNGs it sends."""
    from cnnviz import explain, pictures, preprocess

    result = preprocess.preprocess(preprocess.canvas_grey(canvas))  # inputs.canvas, then the page
    if not result.ok:  # the page stops with a message: nothing else is computed
        return [pictures.png(pictures.probability_bars(np.zeros(10), DIGITS))]
    image = result.model_input
    probs, maps = server.probe(image)
    digit = int(np.argmax(probs))
    explain.is_unsure(probs)
    e = server.explainer  # widgets.explanation_maps with methods=("SmoothGrad", "Grad-CAM")
    looked = {"SmoothGrad": e.smoothgrad(image, digit),
              f"Grad-CAM ({e.conv_paths[-1]})": e.gradcam(image, digit)}
    first = next(iter(maps))  # pick_one's default: the first layer
    return [pictures.png(pictures.probability_bars(probs, DIGITS)),
            pictures.png(pictures.overlays(image[..., 0], looked, 120)),
            pictures.png(pictures.stages(result.stages, preprocess.STAGE_TITLES)),
            pictures.png(pictures.feature_maps(maps[first]))]


def main(n: int = 200, drawings: int = 20) -> dict:
    from bench.predict_path import bare_call, canvases, stats, timings
    from cnnviz import explain, preprocess

    server = Server()
    drawn = canvases(drawings)
    inputs = [explain.as_input(preprocess.preprocess(c).model_input, server.probe.input_shape)
              for c in drawn]
    bare = bare_call(server.probe.model, jit=True)
    page_next, bare_next = itertools.cycle(drawn), itertools.cycle(inputs)
    page_ms, bare_ms = timings([lambda: serve(server, next(page_next)),
                                lambda: bare(next(bare_next))], n)
    result = {"page": stats(page_ms), "bare_xla": stats(bare_ms)}
    for k in ("best", "median", "p95"):
        result[f"ratio_{k}"] = result["page"][f"{k}_ms"] / result["bare_xla"][f"{k}_ms"]
    for name, what in (("page", "Draw page, server, per drawing"),
                       ("bare_xla", "bare model call, XLA")):
        r = result[name]
        print(f"{what:31s} best {r['best_ms']:.2f} ms, median {r['median_ms']:.2f} ms, "
              f"p95 {r['p95_ms']:.2f} ms ({n} drawings, {drawings} different)")
    print(f"ratio page / bare call: median {result['ratio_median']:.1f}x, "
          f"p95 {result['ratio_p95']:.1f}x, best-of {result['ratio_best']:.1f}x")
    return result


if __name__ == "__main__":
    main()
