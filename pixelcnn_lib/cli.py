"""``python -m pixelcnn_lib``: build and inspect the dataset, train, evaluate, sample, benchmark.

Every sub-command prints one clear ``error: ...`` line (exit status 2) for bad input instead of a traceback.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _add_dataset(sub):
    p = sub.add_parser("dataset", help="build or describe the embedded calligraphy dataset")
    dsub = p.add_subparsers(dest="dataset_command", required=True)
    b = dsub.add_parser("build", help="render the dataset from the installed fonts (see `make fonts`)")
    b.add_argument("--out", type=Path, default=None, help="output folder (default: the library's datasets/)")
    b.add_argument("--fonts-dir", type=Path, default=None, help="where `npm install --prefix` put the fonts")
    b.add_argument("--fonts", default=None, help="comma-separated font keys (default: all)")
    i = dsub.add_parser("info", help="counts per style, font and split")
    i.add_argument("--path", type=Path, default=None, help="a dataset .npz (default: the embedded one)")
    s = dsub.add_parser("sheet", help="write a PNG of every font on the same characters")
    s.add_argument("--out", type=Path, required=True)
    s.add_argument("--n-chars", type=int, default=8)
    s.add_argument("--size", type=int, default=64, choices=(32, 64))


def _add_train(sub):
    from pixelcnn_lib.train import PRESETS

    p = sub.add_parser("train", help="train a PixelCNN (resumes when --out holds a checkpoint of the same run)")
    p.add_argument("--preset", choices=sorted(PRESETS), default="small")
    p.add_argument("--out", type=Path, default=None, help="run directory (default: runs/<preset>)")
    p.add_argument("--data", default=None, help="a folder of scans, one sub-folder per style (default: embedded)")
    p.add_argument("--size", type=int, choices=(32, 64), default=None)
    p.add_argument("--epochs", type=int, default=None)
    p.add_argument("--steps", type=int, default=None, help="training steps per epoch")
    p.add_argument("--batch-size", type=int, default=None)
    p.add_argument("--filters", type=int, default=None)
    p.add_argument("--lr", type=float, default=None, help="Adam's learning rate")
    p.add_argument("--ema", type=float, default=None, help="EMA momentum; 0 turns the EMA off")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def _add_evaluate_sample(sub):
    e = sub.add_parser("evaluate", help="print the bits/dim of a trained model on the test (or val) split")
    e.add_argument("run", type=Path, help="run directory or .keras file")
    e.add_argument("--split", choices=("test", "val", "train"), default="test")
    s = sub.add_parser("sample", help="write a PNG grid of samples")
    s.add_argument("run", type=Path, help="run directory or .keras file")
    s.add_argument("--n", type=int, default=16)
    s.add_argument("--out", type=Path, default=Path("samples.png"))
    s.add_argument("--temperature", type=float, default=1.0)
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--method", choices=("cached", "naive"), default="cached")
    s.add_argument("--scale", type=int, default=4, help="pixel enlargement in the PNG")


def _add_bench(sub):
    p = sub.add_parser("bench", help="benchmarks that print measured ratios")
    bsub = p.add_subparsers(dest="bench_command", required=True)
    s = bsub.add_parser("sampling", help="naive vs cached sampling, batch 16, at 32x32 and 64x64")
    s.add_argument("--run", type=Path, default=None, help="a trained run (default: the seed-sized model, random weights)")
    s.add_argument("--n", type=int, default=16)
    s.add_argument("--sizes", type=int, nargs="+", default=[32, 64])
    s.add_argument("--naive-steps-64", type=int, default=256, help="naive steps measured at 64x64, then scaled")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m pixelcnn_lib", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    _add_dataset(sub)
    _add_train(sub)
    _add_evaluate_sample(sub)
    _add_bench(sub)
    return parser


def _cmd_dataset(args):
    from pixelcnn_lib import data

    if args.dataset_command == "build":
        from pixelcnn_lib import fonts

        keys = args.fonts.split(",") if args.fonts else None
        kwargs = {"fonts_dir": args.fonts_dir, "fonts": keys}
        if args.out is not None:
            kwargs["out_dir"] = args.out
        print(f"wrote {fonts.build_dataset(**kwargs)}")
    elif args.dataset_command == "info":
        print(data.describe(args.path) if args.path else data.describe())
    else:
        import matplotlib

        matplotlib.use("Agg")
        from pixelcnn_lib import viz

        fig = viz.style_sheet(data.load_calligraphy(size=args.size), n_chars=args.n_chars, size=args.size)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(args.out, dpi=120, bbox_inches="tight")
        print(f"wrote {args.out}")


def _cmd_train(args):
    from pixelcnn_lib.train import PRESETS, train

    overrides = {k: v for k, v in {
        "size": args.size, "epochs": args.epochs, "steps_per_epoch": args.steps, "batch_size": args.batch_size,
        "filters": args.filters, "learning_rate": args.lr, "seed": args.seed, "data": args.data,
    }.items() if v is not None}
    if args.ema is not None:
        overrides["ema_momentum"] = None if args.ema == 0 else args.ema
    config = PRESETS[args.preset].replace(**overrides)
    out = args.out or Path("runs") / args.preset
    record = train(config, out, verbose=0 if args.quiet else 1)
    print(f"{out}: validation {record['val']['bits_per_dim']:.4f} bits/dim, "
          f"test {record['test']['bits_per_dim']:.4f} bits/dim ({record['weights']} weights)")


def _cmd_evaluate(args):
    from pixelcnn_lib.train import evaluate_images, load_images, load_run

    model, config = load_run(args.run)
    result = evaluate_images(model, load_images(config, args.split))
    print(f"{args.split}: {result['bits_per_dim']:.4f} bits/dim, pixel accuracy {result['accuracy']:.4f} "
          f"({result['images']} images of {config.size}x{config.size})")


def _cmd_sample(args):
    from pixelcnn_lib.sample import sample
    from pixelcnn_lib.train import load_run
    from pixelcnn_lib.viz import image_grid, save_png

    model, config = load_run(args.run)
    images = sample(model, n=args.n, size=config.size, method=args.method, temperature=args.temperature,
                    seed=args.seed, progress=True)
    save_png(image_grid(images), args.out, scale=args.scale)
    print(f"wrote {args.out}: {args.n} samples of {config.size}x{config.size} (temperature {args.temperature}, "
          f"seed {args.seed}, {args.method} sampler)")


def _cmd_bench(args):
    from pixelcnn_lib.model import build_model
    from pixelcnn_lib.sample import benchmark
    from pixelcnn_lib.train import load_run

    if args.run is not None:
        model, _ = load_run(args.run)
        what = str(args.run)
    else:
        model = build_model(filters=64, n_block=3, n_resnet=2, size=32, seed=0)
        what = "seed-sized PixelCNN (64 filters, 3 blocks x 2 gated resnets), random weights"
    print(f"sampling benchmark: {what}; batch {args.n}; same process, same model")
    print(f"{'size':>6} {'naive s':>10} {'cached s':>9} {'speed-up':>9}  cache memory  note")
    for size in args.sizes:
        steps = args.naive_steps_64 if size >= 64 else None
        r = benchmark(model, n=args.n, size=size, naive_steps=steps)
        note = ("naive measured on all pixels" if r["naive_steps_measured"] == size * size else
                f"naive measured over {r['naive_steps_measured']} steps ({r['naive_measured_s']:.1f} s) and "
                f"scaled to {size * size}")
        print(f"{size:>4}^2 {r['naive_s']:>10.1f} {r['cached_s']:>9.2f} {r['speedup']:>8.0f}x  "
              f"{r['cache_bytes'] / 2**20:>9.1f} MiB  {note}")


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    handlers = {"dataset": _cmd_dataset, "train": _cmd_train, "evaluate": _cmd_evaluate, "sample": _cmd_sample,
                "bench": _cmd_bench}
    try:
        handlers[args.command](args)
    except (FileNotFoundError, NotADirectoryError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
