"""Entry point: `python <runtime>/python/asf_worker`, started by the loader's Python host;
`... asf_worker declared-schema` prints what wrapper.py declares instead (asf schema, asf validate)."""
import os
import sys

# sys.path[0] is this folder; make the package importable by its own name while we load it.
sys.path[0] = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

if sys.argv[1:] == ["declared-schema"]:
    from asf_worker.declared import main  # noqa: E402
else:
    from asf_worker.main import main  # noqa: E402

main()
# Threads the wrapper started must not keep a finished worker alive.
sys.stdout.flush()
sys.stderr.flush()
os._exit(0)
