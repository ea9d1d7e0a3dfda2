"""``python -m slayer_runner <command> [args]``: one entry point, a table of commands.

Each command is a module with ``main(argv: list[str]) -> int``. Modules are imported only when
their command runs, so a machine without (say) the training dependencies can still run surgery.
"""
from __future__ import annotations

import importlib
import sys

# command -> (module inside slayer_runner, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("pipeline", "run the phases of run.json in a run directory (--run-dir DIR)"),
    "doctor": ("doctor", "pre-flight: versions, devices, memory and disk; does the plan fit?"),
    "surgery": ("surgery", "apply a LayerMap to a Hugging Face checkpoint directory"),
    "make-tiny": ("tiny", "write a random tiny Llama-format checkpoint"),
    "inspect": ("inspect", "list the tensors, shapes and dtypes of a checkpoint"),
    "importance": ("importance", "measure per-block importance on a calibration set"),
    "train": ("train", "train the trainable blocks of an expanded model"),
}


# The runner's errors about its input (a checkpoint, a LayerMap, an events file): whatever command
# meets one, the user gets its message, never a traceback.
INPUT_ERRORS = {"CheckpointError", "SafetensorsError", "LayerMapError", "EventError"}


def _is_input_error(err: BaseException) -> bool:
    return any(c.__name__ in INPUT_ERRORS and c.__module__.startswith("slayer_runner.") for c in type(err).__mro__)


def usage() -> str:
    lines = ["usage: python -m slayer_runner <command> [args]", "", "commands:"]
    lines += [f"  {name:<11} {help_}" for name, (_, help_) in COMMANDS.items()]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(usage())
        return 0 if argv else 2
    name, rest = argv[0], argv[1:]
    if name not in COMMANDS:
        print(f"slayer_runner: unknown command {name!r}\n\n{usage()}", file=sys.stderr)
        return 2
    module_name = COMMANDS[name][0]
    try:
        module = importlib.import_module(f"slayer_runner.{module_name}")
    except ModuleNotFoundError as err:
        # Only a missing command module is "not available"; a missing dependency inside it is a real error.
        if err.name != f"slayer_runner.{module_name}":
            raise
        print(f"slayer_runner: command {name!r} is not available in this runner "
              f"(module slayer_runner/{module_name}.py is missing)", file=sys.stderr)
        return 2
    try:
        return int(module.main(rest) or 0)
    except Exception as err:  # noqa: BLE001 — re-raised unless it is one of ours about the input
        if not _is_input_error(err):
            raise
        print(f"slayer_runner {name}: {err}", file=sys.stderr, flush=True)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
