// A small JSON Schema interpreter for the contracts in contracts/*.schema.json. The Python runner
// has its twin (runner/slayer_runner/schema.py): both implement the same keyword subset with the
// same order of checks, paths and messages, and test/contracts/ holds them to the same verdicts on
// the shared fixtures. We interpret instead of using ajv because the runner needs an interpreter
// anyway (hosts may lack `jsonschema`), and two twins are only provably alike if they are small.
// A schema using a keyword outside the subset is refused when loaded, never silently ignored.

export type JsonSchema = { readonly [keyword: string]: unknown };

/** Keywords that only annotate. */
const ANNOTATIONS = new Set(['$schema', '$id', '$comment', '$defs', 'title', 'description', 'examples', 'default']);
/** Keywords that validate, in the order they are checked. */
const KEYWORDS = [
  '$ref', 'type', 'const', 'enum', 'minimum', 'maximum', 'minLength', 'maxLength', 'pattern',
  'minItems', 'maxItems', 'items', 'properties', 'required', 'additionalProperties', 'allOf', 'if', 'then', 'else',
] as const;
const KNOWN = new Set<string>([...ANNOTATIONS, ...KEYWORDS]);

export class SchemaError extends Error {
  constructor(readonly path: string, readonly detail: string) {
    super(`${path || '(root)'}: ${detail}`);
    this.name = 'SchemaError';
  }
}

type Json = unknown;
type Rec = Record<string, Json>;

const isObject = (v: Json): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v);
const isNumber = (v: Json): v is number => typeof v === 'number' && Number.isFinite(v);

function hasType(v: Json, t: string): boolean {
  switch (t) {
    case 'object': return isObject(v);
    case 'array': return Array.isArray(v);
    case 'string': return typeof v === 'string';
    case 'number': return isNumber(v);
    case 'integer': return isNumber(v) && Number.isInteger(v);
    case 'boolean': return typeof v === 'boolean';
    case 'null': return v === null;
    default: return false;
  }
}

function hasAnyType(v: Json, types: readonly string[]): boolean {
  for (const t of types) if (hasType(v, t)) return true;
  return false;
}

/** A property holding `undefined` is absent, as it is once written as JSON. */
function present(o: Rec, k: string): boolean {
  return Object.hasOwn(o, k) && o[k] !== undefined;
}

const TYPE_WORDS: Readonly<Record<string, string>> = {
  object: 'an object', array: 'an array', string: 'a string', number: 'a finite number',
  integer: 'an integer', boolean: 'a boolean', null: 'null',
};

function typeText(types: readonly string[], minimum: number | null): string {
  return types.map((t) => (t === 'integer' && minimum !== null ? `an integer ≥ ${minimum}` : TYPE_WORDS[t])).join(' or ');
}

/** One schema object, compiled once into a fixed shape (checked per value without dictionary lookups). */
class Node {
  ref: Node | null = null;
  types: readonly string[] | null = null;
  hasConst = false;
  constValue: Json = undefined;
  enumValues: readonly Json[] | null = null;
  integer = false;
  minimum: number | null = null;
  maximum: number | null = null;
  minLength: number | null = null;
  maxLength: number | null = null;
  pattern: RegExp | null = null;
  patternText = '';
  minItems: number | null = null;
  maxItems: number | null = null;
  items: Node | null = null;
  props: [string, Node][] = [];
  propNames = new Set<string>();
  required: string[] = [];
  /** null: any other property goes; false: none may; a Node: each must match it. */
  additional: Node | false | null = null;
  allOf: Node[] = [];
  ifNode: Node | null = null;
  /** Set when `if` is `{properties: {key: {const: value}}}` (a discriminator): tested without a probe. */
  ifKey: string | null = null;
  ifValue: Json = undefined;
  thenNode: Node | null = null;
  elseNode: Node | null = null;
}

/** [key, value] when a schema is exactly `{properties: {key: {const: value}}}`. */
function constProperty(s: Rec): [string, Json] | null {
  const props = s.properties;
  if (Object.keys(s).length !== 1 || !isObject(props) || Object.keys(props).length !== 1) return null;
  const [key, only] = Object.entries(props)[0]!;
  return isObject(only) && Object.keys(only).length === 1 && 'const' in only ? [key, only.const] : null;
}

const num = (v: unknown): number | null => (typeof v === 'number' ? v : null);

/** A compiled schema document: its root and its `$defs`, checked for unknown keywords once. */
export class Schema {
  private readonly nodes = new Map<JsonSchema, Node>();
  private readonly compiled: Node;
  private probing = 0;

  constructor(readonly root: JsonSchema) {
    this.compiled = this.compile(root, '#');
    for (const [k, v] of Object.entries((root.$defs ?? {}) as Rec)) if (isObject(v)) this.compile(v, `#/$defs/${k}`);
  }

  /** Throws SchemaError naming the first value that does not match; returns the value otherwise. */
  validate(value: Json): Json {
    this.check(this.compiled, value, []);
    return value;
  }

  /** The schema under `#/$defs/name` (e.g. an enum's list for the TypeScript side's constants). */
  def(name: string): JsonSchema {
    const defs = this.root.$defs as Record<string, JsonSchema> | undefined;
    const d = defs?.[name];
    if (!d) throw new Error(`schema has no $defs/${name}`);
    return d;
  }

  private compile(s: JsonSchema, where: string): Node {
    const known = this.nodes.get(s);
    if (known) return known;
    for (const k of Object.keys(s)) {
      if (!KNOWN.has(k)) throw new Error(`${where}: schema keyword "${k}" is not supported by the contracts' interpreter`);
    }
    const n = new Node();
    this.nodes.set(s, n);
    const sub = (v: unknown, w: string): Node | null => (isObject(v) ? this.compile(v, w) : null);
    if (typeof s.$ref === 'string') {
      const m = /^#\/\$defs\/([A-Za-z0-9_-]+)$/.exec(s.$ref);
      if (!m) throw new Error(`${where}: unsupported $ref ${s.$ref}: only "#/$defs/name"`);
      n.ref = this.compile(this.def(m[1]!), s.$ref);
    }
    if (s.type !== undefined) n.types = (Array.isArray(s.type) ? s.type : [s.type]) as string[];
    n.integer = n.types?.includes('integer') ?? false;
    if ('const' in s) {
      n.hasConst = true;
      n.constValue = s.const;
    }
    if (Array.isArray(s.enum)) n.enumValues = s.enum;
    n.minimum = num(s.minimum);
    n.maximum = num(s.maximum);
    n.minLength = num(s.minLength);
    n.maxLength = num(s.maxLength);
    if (typeof s.pattern === 'string') {
      n.pattern = new RegExp(s.pattern, 'u');
      n.patternText = s.pattern;
    }
    n.minItems = num(s.minItems);
    n.maxItems = num(s.maxItems);
    n.items = sub(s.items, `${where}/items`);
    for (const [k, v] of Object.entries((s.properties ?? {}) as Rec)) {
      const p = sub(v, `${where}/properties/${k}`);
      if (p) n.props.push([k, p]);
      n.propNames.add(k);
    }
    n.required = (s.required ?? []) as string[];
    n.additional = s.additionalProperties === false ? false : sub(s.additionalProperties, `${where}/additionalProperties`);
    n.allOf = ((s.allOf ?? []) as unknown[]).map((v, i) => sub(v, `${where}/allOf/${i}`)).filter((x): x is Node => x !== null);
    n.ifNode = sub(s.if, `${where}/if`);
    const discriminator = isObject(s.if) ? constProperty(s.if) : null;
    if (discriminator) [n.ifKey, n.ifValue] = discriminator;
    n.thenNode = sub(s.then, `${where}/then`);
    n.elseNode = sub(s.else, `${where}/else`);
    return n;
  }

  /** Throws the error, or only reports the mismatch while probing an `if`. */
  private fail(path: readonly (string | number)[], detail: string): false {
    if (this.probing > 0) return false;
    let p = '';
    for (const seg of path) p += typeof seg === 'number' ? `[${seg}]` : p === '' ? seg : `.${seg}`;
    throw new SchemaError(p, detail);
  }

  /** True when the value matches (used by `if`): a probe builds no error. */
  private matches(n: Node, v: Json): boolean {
    this.probing++;
    try {
      return this.check(n, v, []);
    } finally {
      this.probing--;
    }
  }

  /** False only while probing; otherwise a mismatch throws SchemaError. */
  private check(n: Node, v: Json, path: (string | number)[]): boolean {
    if (n.ref !== null && !this.check(n.ref, v, path)) return false;
    if (n.types !== null && !hasAnyType(v, n.types)) return this.fail(path, `expected ${typeText(n.types, n.minimum)}`);
    if (n.hasConst && v !== n.constValue) return this.fail(path, `expected ${JSON.stringify(n.constValue)}`);
    if (n.enumValues !== null && !n.enumValues.includes(v)) return this.fail(path, `expected one of ${n.enumValues.join(', ')}`);
    if (typeof v === 'number') {
      if (n.minimum !== null && v < n.minimum) return this.fail(path, `expected ${n.integer ? 'an integer' : 'a number'} ≥ ${n.minimum}`);
      if (n.maximum !== null && v > n.maximum) return this.fail(path, `expected a number ≤ ${n.maximum}`);
    } else if (typeof v === 'string') {
      if (n.minLength !== null || n.maxLength !== null) {
        const len = [...v].length;
        if (n.minLength !== null && len < n.minLength) return this.fail(path, `expected at least ${n.minLength} characters`);
        if (n.maxLength !== null && len > n.maxLength) return this.fail(path, `expected at most ${n.maxLength} characters`);
      }
      if (n.pattern !== null && !n.pattern.test(v)) return this.fail(path, `does not match ${n.patternText}`);
    } else if (Array.isArray(v)) {
      if (n.minItems !== null && v.length < n.minItems) return this.fail(path, `expected at least ${n.minItems} item${n.minItems === 1 ? '' : 's'}`);
      if (n.maxItems !== null && v.length > n.maxItems) return this.fail(path, `expected at most ${n.maxItems} item${n.maxItems === 1 ? '' : 's'}`);
      if (n.items !== null) {
        for (let i = 0; i < v.length; i++) {
          path.push(i);
          if (!this.check(n.items, v[i], path)) return false;
          path.pop();
        }
      }
    } else if (isObject(v) && !this.checkObject(n, v, path)) {
      return false;
    }
    for (const sub of n.allOf) if (!this.check(sub, v, path)) return false;
    if (n.ifNode !== null) {
      // JSON Schema: `properties` holds vacuously for a value that is not an object, or lacks the key.
      const holds = n.ifKey !== null ? !isObject(v) || !present(v, n.ifKey) || v[n.ifKey] === n.ifValue : this.matches(n.ifNode, v);
      const branch = holds ? n.thenNode : n.elseNode;
      if (branch !== null && !this.check(branch, v, path)) return false;
    }
    return true;
  }

  private checkObject(n: Node, v: Rec, path: (string | number)[]): boolean {
    for (const [k, sub] of n.props) {
      path.push(k);
      if (present(v, k)) {
        if (!this.check(sub, v[k], path)) return false;
      } else if (n.required.includes(k)) {
        return this.fail(path, 'missing');
      }
      path.pop();
    }
    for (const k of n.required) {
      if (!n.propNames.has(k) && !present(v, k)) {
        path.push(k);
        return this.fail(path, 'missing');
      }
    }
    if (n.additional !== null) {
      for (const k of Object.keys(v)) {
        if (n.propNames.has(k) || v[k] === undefined) continue;
        path.push(k);
        if (n.additional === false) return this.fail(path, 'is not allowed here');
        if (!this.check(n.additional, v[k], path)) return false;
        path.pop();
      }
    }
    return true;
  }
}
