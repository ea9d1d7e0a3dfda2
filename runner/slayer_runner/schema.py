"""A small JSON Schema interpreter for the contracts (contracts/*.schema.json).

The twin of src/protocol/jsonSchema.ts: the same keyword subset, checked in the same order, with the
same paths and messages, held to the same verdicts by test/contracts/. The runner carries its own
interpreter because hosts may not have ``jsonschema``. A schema using a keyword outside the subset
is refused when loaded, never silently ignored.
"""
from __future__ import annotations

import math
import re
from typing import Any, Union

ANNOTATIONS = frozenset({"$schema", "$id", "$comment", "$defs", "title", "description", "examples", "default"})
KEYWORDS = ("$ref", "type", "const", "enum", "minimum", "maximum", "minLength", "maxLength", "pattern",
            "minItems", "maxItems", "items", "properties", "required", "additionalProperties", "allOf", "if", "then",
            "else")
KNOWN = ANNOTATIONS | set(KEYWORDS)
TYPE_WORDS = {"object": "an object", "array": "an array", "string": "a string", "number": "a finite number",
              "integer": "an integer", "boolean": "a boolean", "null": "null"}

Path = list[Union[str, int]]


class SchemaError(ValueError):
    def __init__(self, path: str, detail: str) -> None:
        super().__init__(f"{path or '(root)'}: {detail}")
        self.path = path
        self.detail = detail


def _is_number(v: Any) -> bool:
    # JSON numbers only: Python's bool is an int, JavaScript's `typeof true` is not "number".
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _has_type(v: Any, t: str) -> bool:
    if t == "object":
        return isinstance(v, dict)
    if t == "array":
        return isinstance(v, list)
    if t == "string":
        return isinstance(v, str)
    if t == "number":
        return _is_number(v)
    if t == "integer":  # as JavaScript's Number.isInteger: 1.0 is an integer
        return _is_number(v) and float(v).is_integer()
    if t == "boolean":
        return isinstance(v, bool)
    if t == "null":
        return v is None
    return False


def _num_text(n: Any) -> str:
    """A schema number as JavaScript's String() prints it (1.0 → '1')."""
    return str(int(n)) if float(n).is_integer() else repr(float(n))


def _same(a: Any, b: Any) -> bool:
    """JavaScript's === on JSON scalars: true is not 1."""
    return type(a) is type(b) and a == b if isinstance(a, bool) or isinstance(b, bool) else a == b


class Schema:
    """A schema document: its root and ``$defs``, checked for unknown keywords once."""

    def __init__(self, root: dict[str, Any]) -> None:
        self.root = root
        self._regexps: dict[str, re.Pattern[str]] = {}
        self._lint(root, "#")

    def validate(self, value: Any) -> Any:
        """Raises SchemaError naming the first value that does not match; returns the value otherwise."""
        self._check(self.root, value, [])
        return value

    def definition(self, name: str) -> dict[str, Any]:
        d = self.root.get("$defs", {}).get(name)
        if d is None:
            raise KeyError(f"schema has no $defs/{name}")
        return d

    def _lint(self, s: dict[str, Any], where: str) -> None:
        for k in s:
            if k not in KNOWN:
                raise ValueError(f'{where}: schema keyword "{k}" is not supported by the contracts\' interpreter')
        for k, v in s.get("$defs", {}).items():
            self._lint(v, f"{where}/$defs/{k}")
        for k, v in s.get("properties", {}).items():
            self._lint(v, f"{where}/properties/{k}")
        for k in ("items", "additionalProperties", "if", "then", "else"):
            if isinstance(s.get(k), dict):
                self._lint(s[k], f"{where}/{k}")
        for i, v in enumerate(s.get("allOf", [])):
            self._lint(v, f"{where}/allOf/{i}")
        if isinstance(s.get("pattern"), str):
            self._regexps[s["pattern"]] = re.compile(s["pattern"])

    def _resolve(self, ref: str) -> dict[str, Any]:
        m = re.fullmatch(r"#/\$defs/([A-Za-z0-9_-]+)", ref)
        if not m:
            raise ValueError(f'unsupported $ref {ref}: only "#/$defs/name"')
        return self.definition(m.group(1))

    @staticmethod
    def _fail(path: Path, detail: str) -> None:
        text = ""
        for seg in path:
            text += f"[{seg}]" if isinstance(seg, int) else (seg if text == "" else f".{seg}")
        raise SchemaError(text, detail)

    def _matches(self, s: dict[str, Any], v: Any) -> bool:
        try:
            self._check(s, v, [])
            return True
        except SchemaError:
            return False

    def _check(self, s: dict[str, Any], v: Any, path: Path) -> None:
        if isinstance(s.get("$ref"), str):
            self._check(self._resolve(s["$ref"]), v, path)
        if "type" in s:
            types = s["type"] if isinstance(s["type"], list) else [s["type"]]
            if not any(_has_type(v, t) for t in types):
                words = [f"an integer ≥ {_num_text(s['minimum'])}" if t == "integer" and _is_number(s.get("minimum"))
                         else TYPE_WORDS[t] for t in types]
                self._fail(path, f"expected {' or '.join(words)}")
        if "const" in s and not _same(v, s["const"]):
            self._fail(path, f"expected {_json_text(s['const'])}")
        if isinstance(s.get("enum"), list) and not any(_same(v, e) for e in s["enum"]):
            self._fail(path, f"expected one of {', '.join(map(str, s['enum']))}")
        if _is_number(v):
            if _is_number(s.get("minimum")) and v < s["minimum"]:
                types = s.get("type")
                kind = "an integer" if types == "integer" or (isinstance(types, list) and "integer" in types) else "a number"
                self._fail(path, f"expected {kind} ≥ {_num_text(s['minimum'])}")
            if _is_number(s.get("maximum")) and v > s["maximum"]:
                self._fail(path, f"expected a number ≤ {_num_text(s['maximum'])}")
        if isinstance(v, str):
            if isinstance(s.get("minLength"), int) and len(v) < s["minLength"]:
                self._fail(path, f"expected at least {s['minLength']} characters")
            if isinstance(s.get("maxLength"), int) and len(v) > s["maxLength"]:
                self._fail(path, f"expected at most {s['maxLength']} characters")
            if isinstance(s.get("pattern"), str) and not self._regexps[s["pattern"]].search(v):
                self._fail(path, f"does not match {s['pattern']}")
        if isinstance(v, list):
            for key, word in (("minItems", "least"), ("maxItems", "most")):
                n = s.get(key)
                if isinstance(n, int) and (len(v) < n if key == "minItems" else len(v) > n):
                    self._fail(path, f"expected at {word} {n} item{'' if n == 1 else 's'}")
            if isinstance(s.get("items"), dict):
                for i, item in enumerate(v):
                    path.append(i)
                    self._check(s["items"], item, path)
                    path.pop()
        if isinstance(v, dict):
            self._check_object(s, v, path)
        for sub in s.get("allOf", []):
            self._check(sub, v, path)
        if isinstance(s.get("if"), dict):
            branch = s.get("then") if self._matches(s["if"], v) else s.get("else")
            if isinstance(branch, dict):
                self._check(branch, v, path)

    def _check_object(self, s: dict[str, Any], v: dict[str, Any], path: Path) -> None:
        props: dict[str, Any] = s.get("properties", {})
        required: list[str] = s.get("required", [])
        for k, sub in props.items():
            path.append(k)
            if k in v:
                self._check(sub, v[k], path)
            elif k in required:
                self._fail(path, "missing")
            path.pop()
        for k in required:
            if k not in props and k not in v:
                path.append(k)
                self._fail(path, "missing")
        extra = s.get("additionalProperties")
        if extra is False or isinstance(extra, dict):
            for k, item in v.items():
                if k in props:
                    continue
                path.append(k)
                if extra is False:
                    self._fail(path, "is not allowed here")
                self._check(extra, item, path)
                path.pop()


def _json_text(v: Any) -> str:
    """JSON.stringify of a scalar."""
    import json

    return json.dumps(v, ensure_ascii=False)
