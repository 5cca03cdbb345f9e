"""``brian-stdp <command>`` and ``python -m brian_stdp <command>``: every command line in one.

    brian-stdp run --neurons 100        # = python -m brian_stdp.run --neurons 100
    brian-stdp predict RUN_DIR a.png    # = python -m brian_stdp.predict RUN_DIR a.png
    brian-stdp --neurons 100            # no command: run

Each command is the ``main`` of its module (``brian_stdp.<command>``; ``ann``:
:mod:`brian_stdp.ann.cli`).
"""

from __future__ import annotations

import importlib
import sys

#: Command name -> (module whose ``main`` runs it, one line of help).
COMMANDS = {
    "run": ("brian_stdp.run", "train, label and test a spiking network (the default)"),
    "predict": ("brian_stdp.predict", "classify images with a trained run"),
    "sweep": ("brian_stdp.sweep", "run a grid of runs on Dask"),
    "compare": ("brian_stdp.compare", "compare SNN and ANN runs, with figures and a report"),
    "readout": ("brian_stdp.readout", "re-score finished runs from their spike counts"),
    "bench": ("brian_stdp.bench", "measure compile time, speed and memory"),
    "ann": ("brian_stdp.ann.cli", "train the Keras dense-network baseline"),
    "pretrained": ("brian_stdp.pretrained", "export a finished run in compact form"),
    "genn": ("brian_stdp.genn", "check a model file for GeNN, or train on GeNN"),
}


def usage() -> str:
    """The list of commands, as ``--help`` prints it."""
    width = max(len(name) for name in COMMANDS)
    lines = ["usage: brian-stdp [COMMAND] [FLAGS...]   (no command: run)", "", "commands:"]
    lines += [f"  {name:<{width}}  {text}" for name, (_, text) in COMMANDS.items()]
    lines += ["", "brian-stdp COMMAND --help shows a command's flags."]
    return "\n".join(lines)


def main(argv=None) -> int:
    """Run the command that ``argv[0]`` names with the rest of ``argv``; without a command
    name, run ``run`` with all of ``argv``."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] in (["-h"], ["--help"]):
        print(usage())
        return 0
    name = "run"
    if argv and argv[0] in COMMANDS:
        name, argv = argv[0], argv[1:]
    module = importlib.import_module(COMMANDS[name][0])
    return module.main(argv)


if __name__ == "__main__":
    sys.exit(main())
