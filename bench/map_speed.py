"""The Embedding map page: building the map of 5,000 MNIST test images for the shipped
LeNet-5 (features at dense2 and the PCA), and placing one drawing on it (its features, its
point, its 8 nearest test images, the figure as sent and the neighbours' picture), against the bare
call of the model on the same images, interleaved.

Run: python -m bench.map_speed   (goals: map <= 5 s; drawing's point <= 100 ms)
"""

from __future__ import annotations

import time

import numpy as np


def main(n: int = 30, points: int = 5_000) -> dict:
    import tensorflow as tf

    from bench.predict_path import timings
    from cnnviz import context_plots, data, embedding, models, pictures

    ds = data.load("mnist")
    model = models.load(models.SHIPPED_MODEL)
    builds = []
    for _ in range(3):  # a fresh Mapper each time: tracing is part of what a first visit waits
        start = time.perf_counter()
        mapper = embedding.Mapper(model)
        emb = mapper.build(ds.x_test[:points], ds.y_test[:points])
        builds.append(time.perf_counter() - start)
    bare = tf.function(model, input_signature=[tf.TensorSpec((None, 28, 28, 1), tf.float32)])
    bare_build = []
    for _ in range(3):
        start = time.perf_counter()
        for i in range(0, points, 500):
            bare(ds.x_test[i:i + 500]).numpy()
        bare_build.append(time.perf_counter() - start)
    drawings = iter(ds.x_test[points:])

    def locate():
        located = mapper.locate(emb, next(drawings), k=8)
        fig = context_plots.embedding_map(emb.points, emb.labels, emb.predictions,
                                          ds.class_names, emb.projection.explained,
                                          located.point, located.neighbours)
        fig.to_json()  # what st.plotly_chart sends
        pictures.png(pictures.image_sheet(ds.x_test[located.neighbours], ["0"] * 8, 4, 72))

    one = ds.x_test[:1]
    point_ms, bare_ms = timings([locate, lambda: bare(one).numpy()], n)
    result = {"build_s": float(np.median(builds)), "bare_build_s": float(np.median(bare_build)),
              "point_median_ms": float(np.median(point_ms)),
              "point_p95_ms": float(np.percentile(point_ms, 95)),
              "bare_median_ms": float(np.median(bare_ms))}
    print(f"map of {points:,} points built in {result['build_s']:.2f} s (goal <= 5 s; the bare "
          f"model over the same images {result['bare_build_s']:.2f} s); drawing's point, "
          f"neighbours, figure and picture: median {result['point_median_ms']:.1f} ms, p95 "
          f"{result['point_p95_ms']:.1f} ms (goal <= 100 ms; bare call "
          f"{result['bare_median_ms']:.2f} ms)")
    return result


if __name__ == "__main__":
    main()
