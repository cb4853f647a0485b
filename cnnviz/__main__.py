"""Command line: python -m cnnviz {summary,train,evaluate,predict,dream,unit,robustness} ... (--json for machines).

Errors a user can fix (a bad argument, an unknown preset, a missing or broken model file, a
wrong input shape, a diverging training) print one line on stderr and exit with code 2, bad
arguments before any long work; progress bars go to stderr so --json output stays clean.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import math
import os
import shutil
import sys
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's start-up chatter off stderr

from cnnviz import data, models, runs, summary, training  # noqa: E402  (Keras loads lazily)
from cnnviz.corruptions import Corruption  # noqa: E402
from cnnviz.robustness import DEFAULT_IMAGES, GREY_DATASETS  # noqa: E402

EXIT_USAGE = 2
MAX_LEARNING_RATE = 10.0  # beyond this every optimizer here diverges at once
MAX_DREAM_STEPS = 5000  # the Inside page offers up to 1,000; 200 already converge


class UserError(Exception):
    """A problem the user can fix; printed as one line, exit code 2."""


def emit(args, obj: dict, text: str) -> None:
    print(json.dumps(obj) if args.json else text)


# --- summary -----------------------------------------------------------------------------------


def format_summary(s: summary.ModelSummary) -> str:
    rows = [(layer.name, layer.type, str(layer.output_shape), f"{layer.params:,}",
             "not counted" if layer.flops is None else f"{layer.flops:,}") for layer in s.layers]
    head = ("layer", "type", "output shape", "params", "FLOPs")
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(5)]
    line = lambda r: "  ".join(c.ljust(w) if i < 3 else c.rjust(w)  # noqa: E731
                               for i, (c, w) in enumerate(zip(r, widths)))
    return "\n".join([
        f"{s.name}  input {s.input_shape}",
        line(head), *map(line, rows),
        f"total params {s.total_params:,} (trainable {s.trainable_params:,}), "
        f"FLOPs per image {s.flops:,}"
        + (f" (not counted: {', '.join(s.not_counted)})" if s.not_counted else ""),
    ])


def cmd_summary(args) -> None:
    s = summary.summarize(models.build_or_load(args.model))
    emit(args, s.to_dict(), format_summary(s))


# --- train -------------------------------------------------------------------------------------


class ProgressBar:
    """tqdm bar over all batches of all epochs, on stderr."""

    def __init__(self, total_batches: int, enabled: bool):
        from tqdm import tqdm

        self.bar = tqdm(total=total_batches, unit="batch", file=sys.stderr, disable=not enabled)

    def on_batch(self, batch, logs):
        self.bar.update(1)
        self.bar.set_postfix(loss=f"{logs.get('loss', float('nan')):.4f}",
                             acc=f"{logs.get('accuracy', float('nan')):.4f}", refresh=False)

    def on_epoch(self, epoch, logs):
        if self.bar.disable:  # --quiet: tqdm.write would still print
            return
        shown = {k: round(float(v), 4) for k, v in logs.items()}
        self.bar.write(f"epoch {epoch + 1}: {shown}", file=sys.stderr)

    def close(self):
        self.bar.close()


def model_card(result, config, preset) -> dict:
    return {
        "model": preset.name,
        "description": preset.description,
        "dataset": config.dataset,
        "test_accuracy": result.test_accuracy,
        "test_loss": result.test_loss,
        "epochs": len(next(iter(result.history.values()), [])),
        "recipe": {k: v for k, v in vars(config).items() if k not in ("preset", "dataset")},
        "params": summary.summarize(models.build(preset.name)).total_params,
        "train_seconds": round(result.seconds, 1),
        "date": dt.date.today().isoformat(),
        "command": "python -m cnnviz " + " ".join(sys.argv[1:]),
    }


def check_train_args(args) -> None:
    """Refuse arguments that cannot work, before any data is loaded or model built."""
    for flag, value in (("--epochs", args.epochs), ("--batch-size", args.batch_size),
                        ("--subset", args.subset)):
        if value is not None and value < 1:
            raise UserError(f"{flag} must be at least 1 (got {value})")
    if args.lr is not None and not (math.isfinite(args.lr) and 0 < args.lr <= MAX_LEARNING_RATE):
        raise UserError(f"--lr must be a number above 0 and at most {MAX_LEARNING_RATE:g} "
                        f"(got {args.lr:g})")
    if args.seed is not None and args.seed < 0:
        raise UserError(f"--seed must be 0 or more (got {args.seed})")
    check_out_folder(Path(args.out or runs.DEFAULT_RUNS_DIR))
    if args.export:
        check_export(Path(args.export))


def check_out_folder(out: Path) -> None:
    existing = next(p for p in [out, *out.parents] if p.exists())  # the rest gets created
    if not existing.is_dir():
        raise UserError(f"--out {out}: {existing} is a file, not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise UserError(f"--out {out} cannot be written to (no permission for {existing})")


def check_export(export: Path) -> None:
    if export.is_dir():
        raise UserError(f"--export {export} is a folder; give a file name ending in .keras")
    if export.suffix != ".keras":
        raise UserError(f"--export {export} must end in .keras")
    folder = export.parent
    if not folder.is_dir():
        raise UserError(f"--export {export}: the folder {folder} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise UserError(f"--export {export}: the folder {folder} cannot be written to")


def fit_subset(config: training.TrainConfig, n_images: int) -> training.TrainConfig:
    """A --subset beyond the data means all of it: said on stderr, not refused."""
    if config.subset is None or config.subset <= n_images:
        return config
    print(f"note: --subset {config.subset} is more than the {n_images:,} training images; "
          "using all of them", file=sys.stderr)
    return dataclasses.replace(config, subset=None)


def cmd_train(args) -> None:
    check_train_args(args)
    config = training.TrainConfig.from_preset(
        args.preset, args.recipe, dataset=args.dataset, epochs=args.epochs,
        batch_size=args.batch_size, learning_rate=args.lr, optimizer=args.optimizer,
        subset=args.subset, augment=True if args.augment else None, seed=args.seed,
    )
    dataset = data.load(config.dataset)
    if dataset.is_sample:
        print(f"note: {dataset.message}", file=sys.stderr)
    config = fit_subset(config, len(dataset.x_train))
    models.check_input(models.build(config.preset), dataset.info.image_shape)
    n_train = len(training.training_arrays(config, dataset)[0][0])
    bar = ProgressBar(config.epochs * -(-n_train // config.batch_size), enabled=not args.quiet)
    try:
        result = training.train(config, args.out, on_batch=bar.on_batch, on_epoch=bar.on_epoch)
    finally:
        bar.close()
    if args.export:
        export = Path(args.export)
        shutil.copyfile(result.run_dir / "model.keras", export)
        from cnnviz.files import write_json

        write_json(export.with_suffix(".json"), model_card(result, config, models.PRESETS[config.preset]))
    emit(args, {"run_dir": str(result.run_dir), "test_accuracy": result.test_accuracy,
                "history": result.history},
         f"run written to {result.run_dir}\ntest accuracy {result.test_accuracy:.4f}")


# --- evaluate ----------------------------------------------------------------------------------


def cmd_evaluate(args) -> None:
    model = models.load(args.model)
    result = training.evaluate(model, args.dataset)
    emit(args, result, f"accuracy {result['accuracy']:.4f}  loss {result['loss']:.4f}  "
                       f"on {result['n']:,} test images of {args.dataset}"
                       + (" (bundled sample)" if result["dataset_is_sample"] else ""))


# --- predict ----------------------------------------------------------------------------------

def image_paths(paths) -> list[Path]:
    """Files as given; directories expanded to the images they hold, sorted."""
    from cnnviz.preprocess import IMAGE_SUFFIXES

    out = []
    for p in map(Path, paths):
        if p.is_dir():
            out += sorted(f for f in p.iterdir() if f.suffix.lower() in IMAGE_SUFFIXES)
        else:
            out.append(p)
    return out


def predict_one(probe, path: Path) -> dict:
    from cnnviz import preprocess

    try:
        raw = path.read_bytes()
        img = preprocess.open_image(raw, path.name)
        result = preprocess.preprocess(preprocess.pil_to_array(img))
    except (OSError, preprocess.ImageError) as err:
        return {"path": str(path), "error": str(err)}
    if not result.ok:
        return {"path": str(path), "error": result.message}
    probs = probe.probabilities(result.model_input)
    label = int(probs.argmax())
    return {"path": str(path), "label": label, "confidence": float(probs[label]),
            "probs": [float(p) for p in probs]}


def usable_classifier(path: str):
    """The model at `path`, or UserError saying why it cannot classify 28×28 digits."""
    from cnnviz import introspect

    model = models.load(path)
    try:
        introspect.classifier(model)
    except models.ModelError as err:
        raise UserError(f"{Path(path).name} cannot classify 28×28 digits: {err}") from err
    return model


def cmd_predict(args) -> None:
    from cnnviz import explain

    probe = explain.Probe(usable_classifier(args.model))
    paths = image_paths(args.paths)
    if not paths:
        raise UserError("no images found in " + ", ".join(args.paths))
    lines = [predict_one(probe, p) for p in paths]
    for line in lines:
        if args.json:
            print(json.dumps(line))
        elif "error" in line:
            print(f"{line['path']}: error: {line['error']}")
        else:
            print(f"{line['path']}: {line['label']} ({line['confidence']:.1%})")
    if all("error" in line for line in lines):
        raise UserError("none of the images could be read")


# --- dream -------------------------------------------------------------------------------------


def cmd_dream(args) -> None:
    from cnnviz import dreams, images

    if not 1 <= args.steps <= MAX_DREAM_STEPS:
        raise UserError(f"--steps must be between 1 and {MAX_DREAM_STEPS:,} (got {args.steps})")
    dream = dreams.Dreamer(usable_classifier(args.model)).run(
        dreams.DreamSettings(steps=args.steps))
    out = Path(args.out)
    classes = []
    for i, image in enumerate(dream.images):
        path = images.write_png(image, out / f"class_{i}.png")
        classes.append({"class": i, "path": str(path),
                        "self_prob": float(dream.probabilities[i, i])})
    emit(args, {"classes": classes, "seconds": dream.seconds},
         "\n".join(f"class {c['class']}: {c['path']} (the model says {c['self_prob']:.1%})"
                   for c in classes) + f"\n{dream.seconds:.2f} s")


# --- unit ------------------------------------------------------------------------------------


def unit_json(u) -> dict:
    """What `unit --json` prints: the value, where it looks, and how it was summed."""
    out = {"layer": u.layer, "value": u.value, "receptive_field": u.receptive_field,
           "bias": u.bias, "activation": u.pooling or u.activation}
    if u.channel_sums is not None:
        out["contributions"] = [{"channel": c, "sum": float(v)}
                                for c, v in enumerate(u.channel_sums)]
    elif u.inputs is not None:
        out["contributions"] = [{"input": int(i), "contribution": float(u.contributions[i])}
                                for i in np.argsort(-np.abs(u.contributions))[:20]]
    else:
        out["window"] = [[None if np.isnan(v) else float(v) for v in row] for row in u.patch]
    return out


def cmd_unit(args) -> None:
    from cnnviz import preprocess, units

    try:  # the image first: a mistake is told before TensorFlow loads
        img = preprocess.open_image(Path(args.image).read_bytes(), Path(args.image).name)
    except OSError as err:
        raise UserError(f"{args.image} cannot be read ({err.strerror or err})") from err
    result = preprocess.preprocess(preprocess.pil_to_array(img))
    if not result.ok:
        raise UserError(f"{args.image}: {result.message}")
    model = usable_classifier(args.model)
    u = units.explain(units.Cutter(model), result.model_input, args.layer, args.at)
    text = (f"{u.layer} at {list(u.at)}: {u.value:.6g} ({u.activation} of "
            f"{u.pre_activation:.6g} = sum + bias {u.bias:.6g})" if u.kind != units.POOL
            else f"{u.layer} at {list(u.at)}: {u.value:.6g}, the {u.pooling} of its window")
    if u.receptive_field:
        text += f"; looks at input rows {u.receptive_field[0]}-{u.receptive_field[2]}, " \
                f"columns {u.receptive_field[1]}-{u.receptive_field[3]}"
    emit(args, unit_json(u), text)


# --- robustness ------------------------------------------------------------------------------


def cmd_robustness(args) -> None:
    from cnnviz import robustness

    corruption = Corruption.from_key(args.corruption)
    for flag, value, least in (("--limit", args.limit, 1), ("--seed", args.seed, 0)):
        if value < least:
            raise UserError(f"{flag} must be at least {least} (got {value})")
    try:
        for s in args.strengths or ():
            corruption.check(s)
    except ValueError as err:
        raise UserError(f"--strengths: {err}") from err
    model = usable_classifier(args.model)
    dataset = data.load(args.dataset)
    if dataset.is_sample:
        print(f"note: {dataset.message}", file=sys.stderr)
    curve = robustness.curve(model, corruption, *robustness.test_images(dataset, args.limit),
                             args.strengths, args.seed)
    emit(args, {**curve.to_dict(), "model": Path(args.model).name, "dataset": args.dataset,
                "dataset_is_sample": dataset.is_sample},
         f"{Path(args.model).name} on {curve.images:,} {args.dataset} test images, "
         f"{corruption.title.lower()} ({corruption.meaning}):\n"
         + "\n".join(f"{s:>8g} {corruption.unit:<2}  accuracy {a:.4f}"
                     for s, a in zip(curve.strengths, curve.accuracy)))


# --- parser ------------------------------------------------------------------------------------


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m cnnviz", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)

    def command(name, func, help):
        c = sub.add_parser(name, help=help)
        c.add_argument("--json", action="store_true", help="print one JSON object")
        c.set_defaults(func=func)
        return c

    s = command("summary", cmd_summary, "layers, output shapes, parameters and FLOPs")
    s.add_argument("model", help=f"a preset ({', '.join(models.BUILDERS)}), an architecture "
                                 f"({', '.join(models.ARCHITECTURES)}) or a .keras file")

    t = command("train", cmd_train, "train a preset and write a run directory")
    t.add_argument("--preset", required=True, choices=list(models.PRESETS))
    t.add_argument("--dataset", choices=list(data.DATASETS))
    t.add_argument("--recipe", help="a named better recipe of the preset, e.g. adam_augmented")
    t.add_argument("--epochs", type=int)
    t.add_argument("--batch-size", type=int)
    t.add_argument("--lr", type=float)
    t.add_argument("--optimizer", choices=["sgd", "adam", "rmsprop"])
    t.add_argument("--subset", type=int, help="train on the first K images only")
    t.add_argument("--augment", action="store_true")
    t.add_argument("--seed", type=int)
    t.add_argument("--out", default=None,
                   help="folder for run directories (default runs/, or $CNNVIZ_RUNS_DIR)")
    t.add_argument("--export", help="also copy the model here and write its JSON model card")
    t.add_argument("--quiet", action="store_true", help="no progress bar")

    pr = command("predict", cmd_predict, "classify digit images (files or folders)")
    pr.add_argument("paths", nargs="+", help="image files or folders of images")
    pr.add_argument("--model", default=str(models.SHIPPED_MODEL), help="a .keras file")

    d = command("dream", cmd_dream, "activation maximization: one PNG per class")
    d.add_argument("--model", default=str(models.SHIPPED_MODEL), help="a .keras file")
    d.add_argument("--out", required=True, help="folder for class_<i>.png")
    d.add_argument("--steps", type=int, default=200)

    u = command("unit", cmd_unit, "one unit of a layer for one image, worked out as Keras did")
    u.add_argument("--model", default=str(models.SHIPPED_MODEL), help="a .keras file")
    u.add_argument("--image", required=True, help="an image of one digit")
    u.add_argument("--layer", required=True, help="a layer's name (nested: outer/inner)")
    u.add_argument("--at", required=True, type=int, nargs="+", metavar="I",
                   help="ROW COL CHANNEL for conv and pooling layers, UNIT for dense ones")

    e = command("evaluate", cmd_evaluate, "test accuracy and loss of a .keras model")
    e.add_argument("model", help="a .keras file")
    e.add_argument("--dataset", required=True, choices=list(data.DATASETS))

    r = command("robustness", cmd_robustness, "test accuracy as one corruption grows")
    r.add_argument("--model", default=str(models.SHIPPED_MODEL), help="a .keras file")
    r.add_argument("--corruption", required=True, choices=[c.key for c in Corruption])
    r.add_argument("--strengths", type=float, nargs="+", metavar="S",
                   help="strengths in the corruption's unit (default: its own list, with 0)")
    r.add_argument("--limit", type=int, default=DEFAULT_IMAGES,
                   help=f"the first N test images (default {DEFAULT_IMAGES:,})")
    r.add_argument("--dataset", default="mnist", choices=list(GREY_DATASETS))
    r.add_argument("--seed", type=int, default=0, help="for noise and the occluding patch")
    return p


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    try:
        args.func(args)
    except (UserError, models.ModelError, data.DatasetUnavailable, training.TrainingDiverged,
            ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_USAGE
    return 0


if __name__ == "__main__":
    sys.exit(main())
