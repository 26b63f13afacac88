"""Speed and memory benchmarks of the experiments engine (side by side, in one run).

    python benchmarks/experiments.py            # print the figures
    python benchmarks/experiments.py --write    # also rewrite site/docs/performance.md

1. ``losses.photometric`` forward + backward on a 4x3x192x640 batch against
   ``losses.photometric_reference`` (the Monodepth2-style five-pool formulation,
   eager), same inputs, interleaved repeats, median times.
2. The loss landscape of the full-resolution Motorcycle pair over 256 integer
   disparity hypotheses: ``manifold.sweep_min`` against
   ``manifold.sweep_min_reference`` (warp + reference loss, one hypothesis at a
   time); each variant runs in its own subprocess so that its peak RSS is its own.
3. The procedural renderer at 96x192 (the scale of the standard profile): area-integrated pixels
   (3 x 3 sub-samples, the default) against point sampling (1 ray per pixel), interleaved repeats,
   median seconds per stereo scene; the goal is under 1 s per scene.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "site" / "docs" / "performance.md"


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} logical cores, torch {torch.__version__} ({torch.get_num_threads()} threads), Python {platform.python_version()}"


def bench_photometric(repeats: int = 7) -> dict:
    from sins.experiments import losses as L

    torch.manual_seed(0)
    x = torch.rand(4, 3, 192, 640, requires_grad=True)
    y = torch.rand(4, 3, 192, 640)
    fns = {
        "reference": lambda: L.photometric_reference(x, y),
        "fast_eager": lambda: L.photometric(x, y, compile=False),
        "fast": lambda: L.photometric(x, y),
    }
    t0 = time.perf_counter()
    fns["fast"]().mean().backward()  # compile (or fall back) outside the timing
    compile_s = time.perf_counter() - t0
    ref = L.photometric_reference(x, y)
    (gref,) = torch.autograd.grad(ref.sum(), x)
    agree = {}
    for name in ("fast_eager", "fast"):
        out = fns[name]()
        (g,) = torch.autograd.grad(out.sum(), x)
        agree[name] = max(float((out - ref).detach().abs().max()), float((g - gref).abs().max()))
    times: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            x.grad = None
            t = time.perf_counter()
            fn().mean().backward()
            times[name].append(time.perf_counter() - t)
    med = {k: statistics.median(v) for k, v in times.items()}
    return {
        "median_s": med,
        "speedup": {k: med["reference"] / med[k] for k in ("fast_eager", "fast")},
        "max_abs_diff": agree,
        "compile_s": compile_s,
        "compile_fallback": L._COMPILED.failed,
    }


def load_motorcycle():
    try:
        from sins.experiments.data import motorcycle

        s = motorcycle()
        return s.left[None], s.right[None], s.disparity[None], s.valid[None], "sins.experiments.data.motorcycle()"
    except Exception:
        import numpy as np
        from skimage import data

        left, right, disp = data.stereo_motorcycle()
        lt = torch.from_numpy(left).permute(2, 0, 1)[None].float() / 255
        rt = torch.from_numpy(right).permute(2, 0, 1)[None].float() / 255
        d = torch.from_numpy(np.ascontiguousarray(disp))[None, None].float()
        valid = torch.isfinite(d) & (d > 0)
        return lt, rt, torch.nan_to_num(d, nan=0.0, posinf=0.0), valid, "skimage.data.stereo_motorcycle()"


def _child(variant: str, n: int) -> None:
    from sins.experiments import manifold as Mf

    left, right, _, _, _ = load_motorcycle()
    hyp = list(range(n))
    t = time.perf_counter()
    if variant == "reference":
        Mf.sweep_min_reference(left, right, hyp)
    else:
        Mf.sweep_min(left, right, hyp, compile=False)
    dt = time.perf_counter() - t
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": dt, "peak_rss_mb": rss_mb}))


def bench_landscape(n: int = 256) -> dict:
    out = {}
    for variant in ("reference", "fast"):
        res = subprocess.run([sys.executable, __file__, "--child", variant, "--hypotheses", str(n)], capture_output=True, text=True, check=True)
        out[variant] = json.loads(res.stdout.strip().splitlines()[-1])
    out["speedup"] = out["reference"]["seconds"] / out["fast"]["seconds"]
    left, right, disp, valid, source = load_motorcycle()
    out["size"] = f"{left.shape[-1]}x{left.shape[-2]}"
    out["source"] = source
    return out


def landscape_numbers(n: int = 256) -> dict:
    from sins.experiments import manifold as Mf

    left, right, disp, valid, _ = load_motorcycle()
    try:
        from sins.experiments.data import motorcycle

        causes = {k: v[None] for k, v in motorcycle().causes.items()} or None
    except Exception:
        causes = None
    sample = {"left": left, "right": right, "disparity": disp, "valid": valid, "causes": causes}
    return Mf.analyse(sample, hypotheses=range(n), compile=False)


def bench_renderer(repeats: int = 5, size: tuple[int, int] = (96, 192)) -> dict:
    from sins.experiments.data import Dials, render_stereo

    dials = Dials(specular=1.5, repetitive=0.6, occluders=4, curved=3)
    times: dict[str, list[float]] = {"point": [], "area3x3": []}
    for k in range(repeats):
        for name, ss in (("point", 1), ("area3x3", 3)):
            t = time.perf_counter()
            render_stereo("street", size, dials, seed=k, supersample=ss)
            times[name].append(time.perf_counter() - t)
    med = {k: statistics.median(v) for k, v in times.items()}
    return {"median_s": med, "cost_ratio": med["area3x3"] / med["point"], "size": f"{size[1]}x{size[0]}"}


def write_doc(ph: dict, ls: dict, mach: str, rd: dict | None = None) -> None:
    m = ph["median_s"]
    lines = [
        "# Performance",
        "",
        "Speed and memory of the experiments engine, measured side by side in one run.",
        "",
        f"Machine: {mach}.",
        "",
        "| Benchmark | Baseline | Ours | Speed-up | Agreement / peak memory |",
        "|---|---|---|---|---|",
        f"| `photometric` forward + backward, 4x3x192x640 (compiled) | {m['reference'] * 1e3:.1f} ms | {m['fast'] * 1e3:.1f} ms | {ph['speedup']['fast']:.2f}x | max abs diff {ph['max_abs_diff']['fast']:.1e} |",
        f"| `photometric` forward + backward, 4x3x192x640 (no compiler) | {m['reference'] * 1e3:.1f} ms | {m['fast_eager'] * 1e3:.1f} ms | {ph['speedup']['fast_eager']:.2f}x | max abs diff {ph['max_abs_diff']['fast_eager']:.1e} |",
        f"| Motorcycle landscape, {ls['size']}, 256 hypotheses | {ls['reference']['seconds']:.2f} s | {ls['fast']['seconds']:.2f} s | {ls['speedup']:.2f}x | peak RSS {ls['reference']['peak_rss_mb']:.0f} MB vs {ls['fast']['peak_rss_mb']:.0f} MB |",
        *([f"| Procedural stereo scene, {rd['size']}: 3 x 3 sub-samples against 1 ray per pixel | {rd['median_s']['point']:.2f} s | {rd['median_s']['area3x3']:.2f} s | {1 / rd['cost_ratio']:.2f}x (the price of area-integrated pixels) | goal: under 1 s per scene |"] if rd else []),
        "",
        "Baselines: the Monodepth2-style formulation (five 3x3 average pools after reflection padding, eager) and, for",
        "the landscape, a loop that warps (bilinear `grid_sample`) and scores one hypothesis at a time with it.",
        f"One-off compilation of the photometric kernels took {ph['compile_s']:.1f} s (not in the timing).",
        "Each landscape variant runs in its own subprocess; peak RSS includes the Python interpreter and torch.",
        "",
        "Regenerate with:",
        "",
        "```",
        "python benchmarks/experiments.py --write",
        "```",
        "",
    ]
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text("\n".join(lines))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--write", action="store_true")
    ap.add_argument("--child")
    ap.add_argument("--hypotheses", type=int, default=256)
    a = ap.parse_args()
    if a.child:
        _child(a.child, a.hypotheses)
        return
    mach = machine()
    print("machine:", mach)
    ph = bench_photometric()
    print("photometric:", json.dumps(ph, indent=1))
    ls = bench_landscape(a.hypotheses)
    print("landscape:", json.dumps(ls, indent=1))
    an = landscape_numbers(a.hypotheses)
    print("motorcycle analysis:", json.dumps(an, indent=1))
    rd = bench_renderer()
    print("renderer:", json.dumps(rd, indent=1))
    if a.write:
        write_doc(ph, ls, mach, rd)
        print("wrote", DOC.relative_to(ROOT))


if __name__ == "__main__":
    main()
