"""trainer=compiled and --executor vectorized against trainer=fit, side by side, one run.

Every measurement runs in a child process of its own (Keras picks its engine once per
process; peak RSS is per process). Parts:

- trial: the notebook's trial (784-15-10 MLP, SGD Nesterov 0.9, lr 0.01, batch 32,
  10 epochs, 51000 train / 9000 validation rows of MNIST-shaped data, see
  keras_trial.py) with trainer=fit on TensorFlow, trainer=fit on JAX and
  trainer=compiled; first run (compiles included) and steady state (same shapes again).
- study: ``hpo-run --strategy bayes --backend keras --dataset digits --trials 24 --seed 0``
  end to end (start-up, 24 trials of 10 epochs, final test) with trainer=fit, the default
  (compiled) with a cold and then a warm persistent compile cache, and the vectorized
  executor (cold cache).
- vectorized: batches of N notebook trials (different learning rates) on the same data,
  time per model-epoch in steady state, and the first batch's compile.
- equality: 20 configurations of the default space on digits (seed 0, 10 epochs):
  validation accuracy from fit (TensorFlow), fit (JAX), compiled and vectorized.
- memory: peak RSS of 6 and of 30 compiled trials of the default space on digits.

    nice .venv/bin/python benchmarks/keras_compiled.py [--write benchmarks/results/keras_trial.md]
        [--only trial,study,vectorized,equality,memory] [--epochs 10]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from keras_trial import PARAMS, make_data  # noqa: E402

BIN = Path(sys.executable).parent
SPACE = {"learning_rate": (1e-3, 1e-1), "num_dense_layers": (0, 2), "num_dense_nodes": (5, 15),
         "optimizer": ("adam", "sgd")}


def default_space_configs(n: int, seed: int = 0) -> list[dict[str, Any]]:
    """``n`` random configurations of the keras backend's default space."""
    import numpy as np

    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        lo, hi = np.log(SPACE["learning_rate"])
        out.append({"learning_rate": float(np.exp(rng.uniform(lo, hi))),
                    "num_dense_layers": int(rng.integers(0, 3)),
                    "num_dense_nodes": int(rng.integers(5, 16)),
                    "optimizer": str(rng.choice(SPACE["optimizer"]))})
    return out


def mnist_npz(rows: int, seed: int) -> str:
    """The MNIST-shaped data as a file dataset: x_train holds all ``rows``; the holdout
    evaluator's 15 % validation split leaves the notebook's 51000 training rows."""
    import numpy as np

    path = Path(tempfile.gettempdir()) / f"hpo-keras-bench-{rows}-{seed}.npz"
    if not path.is_file():
        x, y = make_data(rows, seed)
        np.savez(path, x_train=x, y_train=y, x_test=x[:1000], y_test=y[:1000])
    return str(path)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# children ------------------------------------------------------------------------------
def child_trial(args: argparse.Namespace) -> dict[str, Any]:
    """One engine's notebook trials: first and steady-state time, the validation curve."""
    from hpo_keras import KerasBackend

    from hpo_framework.contracts.backend import fit_and_score
    from hpo_framework.contracts.dataset import Dataset

    x, y = make_data(args.rows, args.seed)
    n_val = int(len(x) * 0.15)  # the rows validation_split=0.15 holds out
    data = Dataset("mnist-shape", x, y, x[:10], y[:10], n_classes=10)
    # one split, handed to every trial as the same arrays, as a study's holdout evaluator
    # does (it keeps its split): a trial's data go to the device once, not once per trial
    split = (x[:-n_val], y[:-n_val], x[-n_val:], y[-n_val:])
    out: dict[str, Any] = {}
    runs = [("fit", args.engine)] if args.engine == "tensorflow" else [
        ("compiled", None), ("fit", "jax")]
    for trainer, engine in runs:
        # no persistent compile cache: the first trial pays its compiles, as in a new setup
        cache = {"compile_cache": "off"} if trainer == "compiled" else {}
        backend = KerasBackend(seed=args.seed, epochs=args.epochs, trainer=trainer,
                               keras_backend=engine, **cache)
        times, curve = [], None
        if trainer == "fit":  # warm-up as keras_trial.py does: library loading, kernels
            fit_and_score(KerasBackend(seed=args.seed, epochs=1, trainer="fit",
                                       keras_backend=engine),
                          dict(PARAMS), data, x[:2000], y[:2000], x[-n_val:], y[-n_val:])
        for _ in range(2):
            start = time.perf_counter()
            _, steps = fit_and_score(backend, dict(PARAMS), data, *split)
            times.append(time.perf_counter() - start)
            curve = [s["val_loss"] for s in steps]
            acc = steps[-1]["val_accuracy"]
        out[f"{trainer}/{engine or 'jax'}"] = {"first": times[0], "steady": times[1],
                                               "val_loss": curve, "val_accuracy": acc}
    return out


def child_vectorized(args: argparse.Namespace) -> dict[str, Any]:
    """Batches of N notebook trials: steady seconds per model-epoch, first-batch compile."""
    from hpo_keras.vectorized import VectorizedExecutor

    from hpo_framework.jobs.pipeline import JobSpec, PipelineObjective

    spec = JobSpec(backend="keras", dataset="file", seed=args.seed,
                   dataset_options={"path": mnist_npz(args.rows, args.seed)},
                   backend_options={"epochs": args.vec_epochs})
    out: dict[str, Any] = {}
    for n in args.sizes:
        ex = VectorizedExecutor(n_jobs=n)
        ex.start(PipelineObjective(spec))
        times = []
        for rep in range(2):
            configs = [dict(PARAMS, learning_rate=0.01 * (1 + 0.1 * i + rep)) for i in range(n)]
            start = time.perf_counter()
            futures = [ex.submit(i, c) for i, c in enumerate(configs)]
            ex.wait(futures)
            times.append(time.perf_counter() - start)
            states = {f.result().state.value for f in futures}
            assert states == {"COMPLETE"}, [f.result().error for f in futures]
        out[str(n)] = {"first": times[0], "steady": times[1],
                       "per_model_epoch": times[1] / (n * args.vec_epochs)}
        print(f"  N={n}: {out[str(n)]}", file=sys.stderr, flush=True)
    out["peak_rss_mb"] = peak_rss_mb()
    return out


def child_equality(args: argparse.Namespace) -> dict[str, Any]:
    """Validation accuracy of 20 default-space configurations on digits, per trainer."""
    import dataclasses

    from hpo_framework.contracts.objective import evaluate
    from hpo_framework.jobs.pipeline import JobSpec, PipelineObjective

    configs = default_space_configs(args.n_configs, args.seed)
    spec = JobSpec(backend="keras", dataset="digits", seed=args.seed,
                   backend_options={"epochs": args.epochs})
    out: dict[str, Any] = {}
    modes = ["fit/tensorflow"] if args.engine == "tensorflow" else [
        "compiled", "fit/jax", "vectorized"]
    for mode in modes:
        start = time.perf_counter()
        if mode == "vectorized":
            from hpo_keras.vectorized import VectorizedExecutor

            ex = VectorizedExecutor(n_jobs=args.n_configs)
            ex.start(PipelineObjective(spec))
            futures = [ex.submit(i, c) for i, c in enumerate(configs)]
            ex.wait(futures)
            outcomes = [f.result() for f in futures]
        else:
            opts = {"epochs": args.epochs, "trainer": mode.split("/")[0]}
            if mode == "fit/jax":
                opts["keras_backend"] = "jax"
            obj = PipelineObjective(dataclasses.replace(spec, backend_options=opts))
            outcomes = [evaluate(obj, c) for c in configs]
        out[mode] = {"values": [o.value for o in outcomes],
                     "val_loss": [[s["val_loss"] for s in o.intermediate] for o in outcomes],
                     "seconds": time.perf_counter() - start}
    out["configs"] = configs
    return out


def child_memory(args: argparse.Namespace) -> dict[str, Any]:
    from hpo_framework.contracts.objective import evaluate
    from hpo_framework.jobs.pipeline import JobSpec, PipelineObjective

    obj = PipelineObjective(JobSpec(backend="keras", dataset="digits", seed=args.seed,
                                    backend_options={"epochs": args.epochs,
                                                     "trainer": "compiled"}))
    configs = (default_space_configs(30, args.seed + 1) * 2)[:args.n_configs]
    rss = []
    for c in configs:
        o = evaluate(obj, c)
        assert o.state.value == "COMPLETE", o.error
        rss.append(peak_rss_mb())
    return {"peak_rss_mb": peak_rss_mb(), "trials": len(configs), "rss": rss}


CHILDREN = {"trial": child_trial, "vectorized": child_vectorized, "equality": child_equality,
            "memory": child_memory}


def run_child(name: str, *extra: str) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}
    cmd = [sys.executable, __file__, "--child", name, *extra]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    if proc.returncode != 0 or not lines:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{proc.stderr[-4000:]}")
    return json.loads(lines[-1][len("RESULT "):])


def run_study(*extra: str) -> dict[str, Any]:
    """The make-run study, end to end, in a fresh directory; wall time and the best."""
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [str(BIN / "hpo-run"), "--strategy", "bayes", "--backend", "keras", "--dataset",
               "digits", "--trials", "24", "--seed", "0", "--json", *extra]
        start = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp,
                              env={**os.environ, "KERAS_BACKEND": ""})
        wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{proc.stderr[-4000:]}")
    data = json.loads(proc.stdout[proc.stdout.index("{"):])
    states = [t["state"] for t in data["trials"]]
    return {"wall": wall, "best": data["best"]["value"], "test": data.get("test_score"),
            "complete": states.count("COMPLETE"), "trials": len(states)}


# the driver ----------------------------------------------------------------------------
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--child", choices=sorted(CHILDREN))
    ap.add_argument("--engine", default="jax")
    ap.add_argument("--rows", type=int, default=60000)
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--vec-epochs", type=int, default=2)
    ap.add_argument("--sizes", type=lambda s: [int(v) for v in s.split(",")],
                    default=[1, 2, 4, 8, 16])
    ap.add_argument("--n-configs", type=int, default=20)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--only", default="trial,study,vectorized,equality,memory")
    ap.add_argument("--write", default=None, help="append the figures to this markdown file")
    args = ap.parse_args()
    if args.child:
        print("RESULT " + json.dumps(CHILDREN[args.child](args)), flush=True)
        return
    only = set(args.only.split(","))
    lines = [f"- machine: {platform.machine()}, {os.cpu_count()} CPUs "
             f"({platform.processor() or 'unknown CPU'}), shared with other engineers' test "
             "runs; no GPU was available to this run",
             f"- load average at start: {os.getloadavg()[0]:.1f}"]

    def say(text: str) -> None:
        print(text, flush=True)
        lines.append(text)

    e = str(args.epochs)
    if "trial" in only:
        tf = run_child("trial", "--engine", "tensorflow", "--epochs", e)["fit/tensorflow"]
        jx = run_child("trial", "--epochs", e)
        comp, fjax = jx["compiled/jax"], jx["fit/jax"]
        say("### the notebook's trial (51000 rows, 10 epochs, batch 32)")
        say("| trainer | first trial (s, no compile cache) | steady trial (s) | "
            "ratio to fit (TF), steady | "
            "final val_accuracy |")
        say("|---|---|---|---|---|")
        for name, r in (("fit, TensorFlow", tf), ("fit, JAX", fjax), ("compiled (JAX)", comp)):
            say(f"| {name} | {r['first']:.2f} | {r['steady']:.2f} | "
                f"{r['steady'] / tf['steady']:.3f} | {r['val_accuracy']:.4f} |")
        same = max(abs(a - b) for a, b in zip(comp["val_loss"], fjax["val_loss"], strict=True))
        other = max(abs(a - b) for a, b in zip(comp["val_loss"], tf["val_loss"], strict=True))
        say(f"- compiled/fit(TF) steady: {comp['steady'] / tf['steady']:.3f} (goal <= 0.15)")
        say(f"- per-epoch val_loss, compiled vs fit on JAX: max |diff| {same:.2e}")
        say(f"- per-epoch val_loss, compiled vs fit on TensorFlow (the same numpy-drawn "
            f"initial weights and batches): max |diff| {other:.2e} (goal <= 1e-3)")
        say(f"- val_loss per epoch, compiled: {[round(v, 4) for v in comp['val_loss']]}")
        say(f"- val_loss per epoch, fit JAX: {[round(v, 4) for v in fjax['val_loss']]}")
        say(f"- val_loss per epoch, fit TF:  {[round(v, 4) for v in tf['val_loss']]}")
    if "study" in only:
        say("### 24-trial bayes study on digits, default space, end to end (hpo-run)")
        say("| run | wall (s) | ratio to fit | best val accuracy | test accuracy |")
        say("|---|---|---|---|---|")
        base = None
        caches = Path(tempfile.mkdtemp(prefix="hpo-bench-jax-"))
        # warm: the same directory again, filled by the cold run just before
        cold = warm = ("-B", f"compile_cache={caches / 'study'}")
        for name, extra in (("trainer=fit (TF)", ("-B", "trainer=fit")),
                            ("default: compiled, cold compile cache", cold),
                            ("default: compiled, warm compile cache", warm),
                            ("vectorized, n-jobs 4, cold cache",
                             ("--executor", "vectorized", "--n-jobs", "4", "-B",
                              f"compile_cache={caches / 'v4'}")),
                            ("vectorized, n-jobs 8, cold cache",
                             ("--executor", "vectorized", "--n-jobs", "8", "-B",
                              f"compile_cache={caches / 'v8'}"))):
            r = run_study(*extra)
            base = base or r["wall"]
            say(f"| {name} | {r['wall']:.1f} | {r['wall'] / base:.3f} | {r['best']:.4f} | "
                f"{r['test']:.4f} |")
            assert r["complete"] == r["trials"] == 24, r
    if "vectorized" in only:
        v = run_child("vectorized", "--sizes", ",".join(map(str, args.sizes)),
                      "--vec-epochs", str(args.vec_epochs))
        say(f"### vectorized: N notebook trials as one program ({args.vec_epochs} epochs each)")
        say("| N | first batch (s, compile included) | steady batch (s) | s per model-epoch |"
            " 10-epoch trial equivalent (s) |")
        say("|---|---|---|---|---|")
        best = min(args.sizes, key=lambda n: v[str(n)]["per_model_epoch"])
        for n in args.sizes:
            r = v[str(n)]
            say(f"| {n} | {r['first']:.2f} | {r['steady']:.2f} | {r['per_model_epoch']:.4f} | "
                f"{r['per_model_epoch'] * 10:.2f} |")
        say(f"- best N on this machine: {best}; peak RSS {v['peak_rss_mb']:.0f} MB")
    if "equality" in only:
        tf = run_child("equality", "--engine", "tensorflow", "--epochs", e,
                       "--n-configs", str(args.n_configs))
        jx = run_child("equality", "--epochs", e, "--n-configs", str(args.n_configs))
        ref = tf["fit/tensorflow"]["values"]
        say(f"### equality: {args.n_configs} default-space configurations on digits, "
            "validation accuracy after 10 epochs")
        say("| trainer | mean val accuracy | mean abs diff to fit (TF) | mean diff | "
            "max abs diff | seconds |")
        say("|---|---|---|---|---|---|")
        import numpy as np

        for mode, res in (("fit (TensorFlow)", tf["fit/tensorflow"]), ("fit (JAX)", jx["fit/jax"]),
                          ("compiled", jx["compiled"]), ("vectorized", jx["vectorized"])):
            d = np.asarray(res["values"]) - np.asarray(ref)
            say(f"| {mode} | {np.mean(res['values']):.4f} | {np.mean(np.abs(d)):.4f} | "
                f"{np.mean(d):+.4f} | {np.max(np.abs(d)):.4f} | {res['seconds']:.1f} |")
        for mode in ("compiled", "vectorized", "fit/jax"):
            for ref_name, ref_res in (("fit on TensorFlow", tf["fit/tensorflow"]),
                                      ("fit on JAX", jx["fit/jax"])):
                if mode == "fit/jax" and ref_name == "fit on JAX":
                    continue
                d = np.abs(np.asarray(jx[mode]["values"]) - np.asarray(ref_res["values"]))
                loss = [abs(a - b) for r1, r2 in zip(jx[mode]["val_loss"], ref_res["val_loss"],
                                                     strict=True)
                        for a, b in zip(r1, r2, strict=True)]
                say(f"- {mode} vs {ref_name}: max |val accuracy diff| {d.max():.4f}, "
                    f"configurations differing {int((d > 0).sum())}/{len(d)}; per-epoch "
                    f"|val_loss diff| max {max(loss):.2e}, median {np.median(loss):.1e}")
    if "memory" in only:
        six = run_child("memory", "--n-configs", "6", "--epochs", e)
        thirty = run_child("memory", "--n-configs", "30", "--epochs", e)
        say("### memory: peak RSS of compiled trials (default space on digits)")
        say(f"- 6 trials: {six['peak_rss_mb']:.0f} MB; 30 trials: {thirty['peak_rss_mb']:.0f} MB;"
            f" ratio {thirty['peak_rss_mb'] / six['peak_rss_mb']:.3f} (goal <= 1.15)")
    if args.write:
        with open(args.write, "a", encoding="utf-8") as fh:
            fh.write(f"\n## {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}: "
                     f"`{' '.join(sys.argv)}`\n\n" + markdown(lines) + "\n")


def markdown(lines: list[str]) -> str:
    """Blank lines around headings and tables, so that they render."""
    out: list[str] = []
    for line in lines:
        prev = out[-1] if out else ""
        table_edge = line.startswith("|") != prev.startswith("|")
        if prev and (line.startswith("###") or prev.startswith("###") or table_edge):
            out.append("")
        out.append(line)
    return "\n".join(out)


if __name__ == "__main__":
    main()
