"""`python -m slayer_runner run --run-dir DIR`: the whole job of a run directory.

Reads DIR/run.json and DIR/layermap.json, runs run.json's phases in order — doctor, surgery (with
a random tiny base first when run.json has `tiny_model`), importance (on the base model), train,
eval (run.json's `eval`: the base, the expanded model, after each stage, the final model) —
and writes DIR/events.jsonl and DIR/out/:
  out/base/        the tiny base checkpoint (tiny runs only)
  out/expanded/    the LayerMap applied to the base (surgery)
  out/importance.json, out/metrics.jsonl, out/checkpoints/ (resumable), out/model/ (trained),
  out/config.json  (the final model's config.json)
  out/stages/NAME/ (the model after each stage but the last, when eval asks for `stages`)
  out/eval/LABEL.json (scores per evaluated model: base, expanded, a stage name, final)
Exit codes: 0 succeeded; 143 cancelled (SIGTERM; training saves a checkpoint first, and running
the same run directory again resumes it); 1 failed (an `error` event with the traceback first).
Under torchrun/srun every rank runs this; rank 0 alone writes events and does the single-process
phases while the others wait, then all ranks train together.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import traceback
from pathlib import Path
from typing import Callable, List, Optional

import torch.distributed as dist

from .cancel import Cancelled, CancelToken
from .contracts import out_file, run_file
from .events import EventWriter
from .run_config import load_run_config
from .units import path_bytes

CANCEL_EXIT = 143


class PipelineError(RuntimeError):
    pass


class Pipeline:
    def __init__(self, run_dir: Path) -> None:
        from .layermap import load_layer_map

        self.dir = run_dir.resolve()
        self.run = load_run_config(self.dir / run_file("runConfig"))
        self.layer_map = load_layer_map(self.dir / run_file("layerMap"))
        self.out = self.dir / run_file("out")
        self.out.mkdir(parents=True, exist_ok=True)
        self.events = EventWriter(self.dir / run_file("events"), self.run["run_id"])
        self.cancel = CancelToken()
        self.current = "setup"
        from .train import init_distributed

        self.d = init_distributed(self.run["device"])

    # -- helpers ---------------------------------------------------------------------------------
    def log(self, msg: str, level: str = "info") -> None:
        if self.d.main:
            print(msg, flush=True)
            self.events.log(msg, level)

    def on_rank0(self, fn: Callable[[], None]) -> None:
        """Runs fn on rank 0 only; the other ranks wait and fail too if it fails."""
        err: Optional[BaseException] = None
        if self.d.main:
            try:
                fn()
            except BaseException as e:  # noqa: BLE001 — re-raised below, after telling the other ranks
                err = e
        if self.d.world > 1:
            outcome: List[Optional[str]] = [None if err is None else f"{type(err).__name__}: {err}"]
            dist.broadcast_object_list(outcome, src=0)
            if outcome[0] is not None and not self.d.main:
                if outcome[0].startswith("Cancelled"):
                    raise Cancelled(outcome[0])
                raise PipelineError(f"rank 0 failed in {self.current}: {outcome[0]}")
        if err is not None:
            raise err

    def host_path(self, p: str) -> Path:
        """A path from run.json: `~` expanded, relative paths taken from the run directory."""
        return self.dir / os.path.expanduser(p)  # an absolute right-hand side wins

    def artifact(self, name: str, path: Path) -> None:
        if self.d.main and path.exists():
            self.events.artifact(name, str(path.relative_to(self.dir)), path_bytes(path))

    # -- phases ------------------------------------------------------------------------------------
    def base_model(self) -> Path:
        """The base checkpoint: run.json's source_model, or a random tiny one made once in out/base."""
        tiny = self.run["tiny_model"]
        if tiny is None:
            src = self.run["source_model"]
            if not src:
                raise PipelineError("run.json has neither source_model nor tiny_model")
            return self.host_path(src)
        base = self.out / out_file("base")
        if not (base / "config.json").exists():
            from .tiny import make_tiny, spec_from_layer_map_shape

            spec = spec_from_layer_map_shape(self.layer_map["base"], seed=tiny["seed"])
            for k in ("num_layers", "hidden_size", "intermediate_size", "num_heads", "num_kv_heads", "vocab_size"):
                if int(tiny[k]) != int(spec[k]):
                    raise PipelineError(f"run.json tiny_model.{k} = {tiny[k]} but the plan's base model has {spec[k]}")
            shutil.rmtree(base, ignore_errors=True)
            self.events.phase("make-tiny", "start")
            make_tiny(spec, base)
            self.events.phase("make-tiny", "end", detail=f"random {spec['num_layers']}-block model, seed {spec['seed']}")
            self.artifact("base-model", base)
        return base

    def doctor(self) -> None:
        from .doctor import check

        self.events.phase("doctor", "start")
        report = check(self.layer_map, self.run, self.out, self.run["device"])
        for line in report.lines:
            self.log(line)
        for note in report.notes:
            self.log(note, "warning")
        if report.problems:
            raise PipelineError("doctor: " + "; ".join(report.problems))
        self.events.phase("doctor", "end", detail="ok")

    def surgery(self) -> None:
        from .surgery import apply_layer_map

        expanded = self.out / out_file("expanded")
        base = self.base_model()
        if (expanded / "config.json").exists():
            self.log("out/expanded is already there (a resumed run): surgery skipped")
            return
        apply_layer_map(self.layer_map, base, expanded, self.events)

    def backend_choice(self) -> dict[str, str]:
        """run.json's optional model backend and attention kernel (backend.py; default auto)."""
        return {"backend": str(self.run.get("backend") or "auto"),
                "attention": str(self.run.get("attn_implementation") or "auto")}

    def importance(self) -> None:
        from . import importance

        self.events.phase("importance", "start")
        target = self.out / out_file("importance")
        cal = self.run["calibration"]
        cal = str(self.host_path(cal)) if cal else None
        # Calibration size: 64 x 512 tokens on a GPU; on a CPU (the demo) 16 x 64, since the
        # measurement is 1 + 3L passes over the set.
        on_gpu = self.d.device.type == "cuda"
        doc = importance.run(str(self.base_model()), cal, str(target), self.events,
                             seq_len=512 if on_gpu else 64, max_sequences=64 if on_gpu else 16,
                             device=str(self.d.device), check=self.cancel.check, **self.backend_choice())
        self.artifact("importance", target)
        top = sorted(range(doc["num_layers"]), key=lambda i: -doc["angular_all"][i])[:3]
        self.events.phase("importance", "end", detail=f"highest angular distance: blocks {', '.join(map(str, top))}")

    def train(self) -> None:
        from .train import Trainer, TrainOptions

        if not self.layer_map.get("stages"):
            self.log("the plan has no training stages: nothing to train", "warning")
            return
        expanded = self.out / out_file("expanded")
        if not (expanded / "config.json").exists():
            raise PipelineError("train needs the expanded model (out/expanded): run the surgery phase first")
        opts = TrainOptions(str(expanded), self.layer_map, str(self.out), dict(self.run["datasets"]),
                            str(self.dir), self.run["max_steps"], self.run["device"], self.run["seed"],
                            **self.backend_choice())
        opts.stage_models = "stages" in ((self.run.get("eval") or {}).get("when") or [])
        summary = Trainer(opts, self.events, self.cancel, self.d).run()
        self.artifact("metrics", self.out / out_file("metrics"))
        if self.d.main and "model" in summary:
            shutil.copyfile(Path(summary["model"]) / "config.json", self.out / out_file("config"))
            self.artifact("model", self.out / out_file("model"))
            self.artifact("config", self.out / out_file("config"))

    def eval(self) -> None:
        from .evaluation import Evaluator, parse_spec

        if not self.run.get("eval"):
            self.log("run.json has no eval section: nothing to evaluate", "warning")
            return
        spec = parse_spec(self.run["eval"])
        device = str(self.d.device)
        ev = Evaluator(spec, self.out / out_file("eval"), self.events, device, self.dir, dict(self.run.get("datasets") or {}),
                       self.cancel.check)
        for label, path in self.eval_targets(spec.when):
            if not (path / "config.json").exists():
                raise PipelineError(f"eval {label}: no model at {path.relative_to(self.dir) if path.is_relative_to(self.dir) else path}")
            ev.evaluate(label, path, cached=label == "base")
            self.artifact(f"eval-{label}", self.out / out_file("eval") / f"{label}.json")

    def eval_targets(self, when: List[str]) -> List[tuple[str, Path]]:
        """(label, checkpoint) in the order asked: the base, the expanded model, each stage, the final model."""
        stages = [str(s["name"]) for s in self.layer_map.get("stages") or []]
        out: List[tuple[str, Path]] = []
        for w in when:
            if w == "base":
                out.append(("base", self.base_model()))
            elif w == "expanded":
                out.append(("expanded", self.out / out_file("expanded")))
            elif w == "stages":
                out += [(name, self.out / out_file("stages") / name) for name in stages[:-1]]
                if stages and "final" not in when:
                    out.append((stages[-1], self.out / out_file("model")))
            elif w == "final":
                out.append(("final", self.out / out_file("model" if stages else "expanded")))
        return out

    # -- the run -----------------------------------------------------------------------------------
    def execute(self) -> int:
        self.cancel.install()
        phases = self.run["phases"]  # validated: known phases only
        try:
            self.log(f"run {self.run['run_id']}: phases {', '.join(phases)}; {self.d.world} process(es) on {self.d.device}")
            sweep = self.run.get("sweep")
            if sweep:
                self.log(f"variant {sweep['variant']} ({sweep['index'] + 1}) of sweep {sweep['name']} ({sweep['id']})")
            for phase in phases:
                self.current = phase
                self.cancel.check()
                if phase == "train":
                    self.train()  # every rank
                else:
                    self.on_rank0(getattr(self, phase))
            expanded_config = self.out / out_file("expanded") / "config.json"
            if self.d.main and "train" not in phases and expanded_config.exists():
                shutil.copyfile(expanded_config, self.out / out_file("config"))
                self.artifact("config", self.out / out_file("config"))
            self.events.done("succeeded", 0)
            return 0
        except Cancelled as err:
            self.log(f"{err} (during {self.current})", "warning")
            self.events.done("cancelled", CANCEL_EXIT)
            return CANCEL_EXIT
        except Exception as err:  # noqa: BLE001 — reported as events, then a non-zero exit
            tb = traceback.format_exc()
            print(tb, flush=True)
            self.events.error(f"{type(err).__name__}: {err}", self.current, tb)
            self.events.done("failed", 1)
            return 1
        finally:
            self.events.close()
            if dist.is_initialized():
                dist.destroy_process_group()


def main(argv: List[str]) -> int:
    ap = argparse.ArgumentParser(prog="python -m slayer_runner run", description="run the phases of a run directory")
    ap.add_argument("--run-dir", required=True, type=Path)
    a = ap.parse_args(argv)
    try:
        pipeline = Pipeline(a.run_dir)
    except Exception as err:  # noqa: BLE001 — no event stream yet when run.json/layermap.json are unreadable
        return _fail_early(a.run_dir, err)
    return pipeline.execute()


def _fail_early(run_dir: Path, err: Exception) -> int:
    """Setup failed before the event stream existed: still leave an error and a done event."""
    print(traceback.format_exc(), flush=True)
    run_id = "unknown"
    try:
        run_id = str(json.loads((run_dir / run_file("runConfig")).read_text(encoding="utf-8"))["run_id"])
    except Exception:  # noqa: BLE001
        pass
    try:
        ev = EventWriter(run_dir / run_file("events"), run_id)
        ev.error(f"{type(err).__name__}: {err}", "setup", traceback.format_exc())
        ev.done("failed", 1)
        ev.close()
    except Exception:  # noqa: BLE001 — the directory itself may be the problem
        pass
    return 1

