"""Kill trials: 20 (or --trials N) runs of fractal, bake, blend and demo, each interrupted by SIGKILL, SIGTERM
or SIGINT at a random moment and run again; prints JSON counts per command (see tests/cli/killing.py).

    python benchmarks/kill_trials.py [--trials 20] [--commands fractal,bake,blend,demo] [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.cli.killing import commands, make_inputs, trials  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--commands", default="fractal,bake,blend,demo")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    names = [n for n in args.commands.split(",") if n]
    results = {}
    with tempfile.TemporaryDirectory(prefix="usd-synth-kill-") as tmp:
        work = Path(tmp)
        inputs = make_inputs(work, need_actor="bake" in names)
        argv = commands(inputs)
        for name in names:
            results[name] = trials(name, argv[name], work, args.trials, args.seed)
            print(json.dumps({name: results[name]}), file=sys.stderr, flush=True)
    print(json.dumps(results, indent=1))
    sys.exit(1 if any(r["problems"] for r in results.values()) else 0)


if __name__ == "__main__":
    main()
