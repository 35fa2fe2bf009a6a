"""Times an example's model alone, with no server in front: decode + run on one image, in a loop.

    python bench/model_alone.py DIR MODULE:ENGINE IMAGE [--seconds S]

DIR is the capability folder; MODULE:ENGINE names its engine class, built from MODULE.Settings()
with the defaults its wrapper uses when capability.yaml sets no config. The floor a server is
measured against one request at a time: what the same code does when nothing else is in its way.
"""

import argparse
import importlib
import os
import statistics
import sys
import time


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dir")
    parser.add_argument("engine", help="module:class, e.g. ocr_engine:OcrEngine")
    parser.add_argument("image")
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args(argv)

    sys.path.insert(0, os.path.abspath(args.dir))
    module_name, class_name = args.engine.split(":")
    module = importlib.import_module(module_name)
    engine = getattr(module, class_name)(module.Settings({}))
    with open(args.image, "rb") as f:
        data = f.read()
    engine.run(engine.decode(data))  # warm-up, as wrapperInit does
    times = []
    deadline = time.perf_counter() + args.seconds
    while time.perf_counter() < deadline:
        started = time.perf_counter()
        engine.run(engine.decode(data))
        times.append(time.perf_counter() - started)
    print(
        f"{len(times)} calls: {len(times) / sum(times):.2f} images/s, median {statistics.median(times) * 1000:.1f} ms, "
        f"best {min(times) * 1000:.1f} ms ({os.cpu_count()} cores, load {os.getloadavg()[0]:.2f})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
