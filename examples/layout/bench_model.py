"""Times the layout model alone, without any server: decode + detect on one image, in a loop.

    .venv/bin/python bench_model.py [IMAGE] [--seconds S] [--threads N]

The baseline for `asf call ... --bench` through `asf up`: same engine, same settings
(one onnxruntime thread unless --threads says otherwise), same image (default sample.jpg).
"""

import argparse
import os
import statistics
import sys
import time

from layout_engine import LayoutEngine, Settings


def main(argv):
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("image", nargs="?", default=os.path.join(here, "sample.jpg"))
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--threads", default="1", help="onnxruntime intra-op threads (0: one per core)")
    args = parser.parse_args(argv)

    engine = LayoutEngine(Settings({"threads": args.threads}))
    with open(args.image, "rb") as f:
        data = f.read()
    engine.run(engine.decode(data))  # warm-up, as wrapperInit does
    times = []
    deadline = time.perf_counter() + args.seconds
    while time.perf_counter() < deadline:
        started = time.perf_counter()
        regions = engine.run(engine.decode(data))
        times.append(time.perf_counter() - started)
    print(
        f"{len(times)} calls, {len(regions)} regions each: {len(times) / sum(times):.2f} images/s, "
        f"median {statistics.median(times) * 1000:.0f} ms, best {min(times) * 1000:.0f} ms "
        f"(threads {args.threads}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
