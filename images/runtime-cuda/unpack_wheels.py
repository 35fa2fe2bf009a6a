"""Unpacks the shared libraries of NVIDIA's CUDA wheels into a CUDA prefix.

Usage: python3 unpack_wheels.py <wheel folder> <prefix, e.g. /usr/local/cuda>

Each wheel keeps its libraries in nvidia/<component>/lib/; they go flat into <prefix>/lib64.
Headers, static libraries and Python files are skipped to keep the image small; each wheel's
license goes to <prefix>/licenses/<distribution>.txt since the libraries are redistributed.
Shared by images/build.sh (daemonless) and images/runtime-cuda/Dockerfile so both make the
same files.
"""
import os
import re
import sys
import zipfile

LIBRARY = re.compile(r"^nvidia/[^/]+/lib/(lib[^/]+\.so(\.[0-9]+)*)$")
LICENSE = re.compile(r"^([^/]+)\.dist-info/License\.txt$", re.IGNORECASE)


def unpack(wheel: str, prefix: str) -> int:
    libs = 0
    with zipfile.ZipFile(wheel) as archive:
        for name in archive.namelist():
            library, license_ = LIBRARY.match(name), LICENSE.match(name)
            if library:
                target, mode = os.path.join(prefix, "lib64", library.group(1)), 0o755
                libs += 1
            elif license_:
                target, mode = os.path.join(prefix, "licenses", license_.group(1) + ".txt"), 0o644
            else:
                continue
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with archive.open(name) as src, open(target, "wb") as dst:
                dst.write(src.read())
            os.chmod(target, mode)
    return libs


def main() -> None:
    if len(sys.argv) != 3:
        sys.exit("usage: unpack_wheels.py <wheel folder> <prefix>")
    folder, prefix = sys.argv[1:]
    wheels = sorted(f for f in os.listdir(folder) if f.endswith(".whl"))
    if not wheels:
        sys.exit(f"no .whl files in {folder}: download them with pip download -r requirements.txt")
    for wheel in wheels:
        if unpack(os.path.join(folder, wheel), prefix) == 0:
            sys.exit(f"{wheel} holds no nvidia/*/lib/*.so*: is it a CUDA library wheel?")
        print(f"unpacked {wheel}", file=sys.stderr)


if __name__ == "__main__":
    main()
