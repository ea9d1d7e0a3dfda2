"""LayerMap reading: compiled maps are accepted; broken ones are refused with the field's path.
That the TypeScript validator gives the same verdict and message is test/contracts/ (shared cases)."""
from __future__ import annotations

import copy
import json
import tempfile
import unittest
from pathlib import Path
from typing import Any, Callable

from slayer_runner.layermap import LayerMapError, load_layer_map, validate_layer_map
from tests.support import block, cli_available, compile_plan, layer_map, tiny

def mutations() -> list[tuple[str, Callable[[dict[str, Any]], None], str]]:
    """(what, how to break a valid map, the path the error must name)."""
    def set_(path: list[Any], value: Any) -> Callable[[dict[str, Any]], None]:
        def f(m: dict[str, Any]) -> None:
            o = m
            for k in path[:-1]:
                o = o[k]
            if value is KeyError:
                del o[path[-1]]
            else:
                o[path[-1]] = value
        return f
    return [
        ("future version", set_(["version"], 2), "version"),
        ("wrong kind", set_(["kind"], "slayer.plan"), "kind"),
        ("no plan", set_(["plan"], KeyError), "plan"),
        ("bad modelType", set_(["base", "modelType"], 3), "base.modelType"),
        ("zero layers", set_(["result", "numLayers"], 0), "result.numLayers"),
        ("bool as number", set_(["base", "hiddenSize"], True), "base.hiddenSize"),
        ("unknown init", set_(["blocks", 2, "init"], "random"), "blocks[2].init"),
        ("index out of order", set_(["blocks", 1, "index"], 5), "blocks[1].index"),
        ("no sources", set_(["blocks", 0, "sources"], []), "blocks[0].sources"),
        ("weights do not sum to 1", set_(["blocks", 2, "sources", 0, "weight"], 0.7), "blocks[2].sources"),
        ("source outside the base", set_(["blocks", 0, "sources", 0, "layer"], 99), "blocks[0].sources"),
        ("zero not strings", set_(["blocks", 2, "zero"], [1]), "blocks[2].zero[0]"),
        ("block count", set_(["result", "numLayers"], 3), "blocks"),
        ("negative deleted", set_(["deleted"], [-1]), "deleted[0]"),
        ("unknown extra", set_(["trainableExtras"], ["bias"]), "trainableExtras[0]"),
        ("params missing", set_(["params", "perBlock"], KeyError), "params.perBlock"),
        ("run gpus 0", set_(["run"], {"host": "h", "gpus": 0, "nodes": 1}), "run.gpus"),
    ]


class LayerMaps(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.tmp = tempfile.TemporaryDirectory()
        d = Path(cls.tmp.name)
        cls.model = tiny(d / "m", num_layers=6)
        why = cli_available()
        if why is None:
            cls.valid = compile_plan(cls.model, "(2+1)x2 | 1 | 1◇")
        else:  # written by hand from docs/layermap.md
            cls.valid = layer_map(cls.model, [block(0, "kept", "kept", [(0, 1)]), block(1, "kept", "kept", [(1, 1)]),
                                              block(2, "new", "average", [(1, 0.5), (2, 0.5)])] +
                                  [block(i + 1, "kept", "kept", [(i, 1)]) for i in range(2, 6)])

    @classmethod
    def tearDownClass(cls) -> None:
        cls.tmp.cleanup()

    def broken(self) -> list[tuple[str, dict[str, Any], str]]:
        out = []
        for what, how, path in mutations():
            m = copy.deepcopy(self.valid)
            how(m)
            out.append((what, m, path))
        return out

    def test_valid_map_is_accepted(self) -> None:
        self.assertIs(validate_layer_map(self.valid), self.valid)

    def test_broken_maps_name_the_field(self) -> None:
        for what, m, path in self.broken():
            with self.subTest(what), self.assertRaises(LayerMapError) as cm:
                validate_layer_map(m)
            self.assertEqual(cm.exception.path, path)
        with self.assertRaisesRegex(LayerMapError, "unsupported LayerMap version 2"):
            validate_layer_map({**self.valid, "version": 2})

    def test_string_version_says_it_is_a_string(self) -> None:
        # Issue 14: "version": "1" was "unsupported LayerMap version 1 (this runner reads 1)".
        with self.assertRaises(LayerMapError) as cm:
            validate_layer_map({**self.valid, "version": "1"})
        self.assertEqual(str(cm.exception).split(": ", 1)[1],
                         'unsupported LayerMap version "1" (a string): this build reads version 1, the number')

    def test_files(self) -> None:
        d = Path(self.tmp.name)
        with self.assertRaisesRegex(LayerMapError, "no such file"):
            load_layer_map(d / "missing.json")
        (d / "bad.json").write_text("{not json")
        with self.assertRaisesRegex(LayerMapError, r"bad\.json: not valid JSON"):
            load_layer_map(d / "bad.json")
        (d / "old.json").write_text(json.dumps({**self.valid, "version": 7}))
        with self.assertRaisesRegex(LayerMapError, r"old\.json: version: unsupported LayerMap version 7"):
            load_layer_map(d / "old.json")
        (d / "ok.json").write_text(json.dumps(self.valid))
        self.assertEqual(load_layer_map(d / "ok.json")["blocks"], self.valid["blocks"])


if __name__ == "__main__":
    unittest.main()
