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

const TYPE_WORDS: Readonly<Record<string, string>> = {
  object: 'an object', array: 'an array', string: 'a string', number: 'a finite number',
  integer: 'an integer', boolean: 'a boolean', null: 'null',
};

function typeText(types: readonly string[], minimum: unknown): string {
  return types.map((t) => (t === 'integer' && typeof minimum === 'number' ? `an integer ≥ ${minimum}` : TYPE_WORDS[t])).join(' or ');
}

/** A compiled schema document: its root and its `$defs`, checked for unknown keywords once. */
export class Schema {
  private readonly regexps = new Map<string, RegExp>();

  constructor(readonly root: JsonSchema) {
    this.lint(root, '#');
  }

  /** Throws SchemaError naming the first value that does not match; returns the value otherwise. */
  validate(value: Json): Json {
    const path: (string | number)[] = [];
    this.check(this.root, value, path);
    return value;
  }

  /** The schema under `#/$defs/name` (e.g. an enum's list for the TypeScript side's constants). */
  def(name: string): JsonSchema {
    const defs = this.root.$defs as Record<string, JsonSchema> | undefined;
    const d = defs?.[name];
    if (!d) throw new Error(`schema has no $defs/${name}`);
    return d;
  }

  private lint(s: JsonSchema, where: string): void {
    for (const k of Object.keys(s)) {
      if (!KNOWN.has(k)) throw new Error(`${where}: schema keyword "${k}" is not supported by the contracts' interpreter`);
    }
    const sub = (v: unknown, w: string): void => { if (isObject(v)) this.lint(v, w); };
    for (const [k, v] of Object.entries((s.$defs ?? {}) as Rec)) sub(v, `${where}/$defs/${k}`);
    for (const [k, v] of Object.entries((s.properties ?? {}) as Rec)) sub(v, `${where}/properties/${k}`);
    for (const k of ['items', 'additionalProperties', 'if', 'then', 'else']) sub(s[k], `${where}/${k}`);
    ((s.allOf ?? []) as unknown[]).forEach((v, i) => sub(v, `${where}/allOf/${i}`));
    if (typeof s.pattern === 'string') this.regexps.set(s.pattern, new RegExp(s.pattern, 'u'));
  }

  private resolve(ref: string): JsonSchema {
    const m = /^#\/\$defs\/([A-Za-z0-9_-]+)$/.exec(ref);
    if (!m) throw new Error(`unsupported $ref ${ref}: only "#/$defs/name"`);
    return this.def(m[1]!);
  }

  private fail(path: readonly (string | number)[], detail: string): never {
    let p = '';
    for (const seg of path) p += typeof seg === 'number' ? `[${seg}]` : p === '' ? seg : `.${seg}`;
    throw new SchemaError(p, detail);
  }

  /** True when the value matches (used by `if`); no error is built. */
  private matches(s: JsonSchema, v: Json): boolean {
    try {
      this.check(s, v, []);
      return true;
    } catch (e) {
      if (e instanceof SchemaError) return false;
      throw e;
    }
  }

  private check(s: JsonSchema, v: Json, path: (string | number)[]): void {
    if (typeof s.$ref === 'string') this.check(this.resolve(s.$ref), v, path);
    if (s.type !== undefined) {
      const types = (Array.isArray(s.type) ? s.type : [s.type]) as string[];
      if (!types.some((t) => hasType(v, t))) this.fail(path, `expected ${typeText(types, s.minimum)}`);
    }
    if ('const' in s && v !== s.const) this.fail(path, `expected ${JSON.stringify(s.const)}`);
    if (Array.isArray(s.enum) && !s.enum.includes(v)) this.fail(path, `expected one of ${s.enum.join(', ')}`);
    if (isNumber(v)) {
      const integer = s.type === 'integer' || (Array.isArray(s.type) && s.type.includes('integer'));
      if (typeof s.minimum === 'number' && v < s.minimum) this.fail(path, `expected ${integer ? 'an integer' : 'a number'} ≥ ${s.minimum}`);
      if (typeof s.maximum === 'number' && v > s.maximum) this.fail(path, `expected a number ≤ ${s.maximum}`);
    }
    if (typeof v === 'string') {
      const n = [...v].length;
      if (typeof s.minLength === 'number' && n < s.minLength) this.fail(path, `expected at least ${s.minLength} characters`);
      if (typeof s.maxLength === 'number' && n > s.maxLength) this.fail(path, `expected at most ${s.maxLength} characters`);
      if (typeof s.pattern === 'string' && !this.regexps.get(s.pattern)!.test(v)) this.fail(path, `does not match ${s.pattern}`);
    }
    if (Array.isArray(v)) {
      if (typeof s.minItems === 'number' && v.length < s.minItems) this.fail(path, `expected at least ${s.minItems} item${s.minItems === 1 ? '' : 's'}`);
      if (typeof s.maxItems === 'number' && v.length > s.maxItems) this.fail(path, `expected at most ${s.maxItems} item${s.maxItems === 1 ? '' : 's'}`);
      if (isObject(s.items)) {
        for (let i = 0; i < v.length; i++) {
          path.push(i);
          this.check(s.items, v[i], path);
          path.pop();
        }
      }
    }
    if (isObject(v)) this.checkObject(s, v, path);
    if (Array.isArray(s.allOf)) for (const sub of s.allOf as JsonSchema[]) this.check(sub, v, path);
    if (isObject(s.if)) {
      const branch = this.matches(s.if, v) ? s.then : s.else;
      if (isObject(branch)) this.check(branch, v, path);
    }
  }

  private checkObject(s: JsonSchema, v: Rec, path: (string | number)[]): void {
    const props = (s.properties ?? {}) as Record<string, JsonSchema>;
    const required = (s.required ?? []) as string[];
    // A property holding `undefined` is absent, as it is once written as JSON.
    const present = (k: string): boolean => Object.hasOwn(v, k) && v[k] !== undefined;
    for (const k of Object.keys(props)) {
      path.push(k);
      if (present(k)) this.check(props[k]!, v[k], path);
      else if (required.includes(k)) this.fail(path, 'missing');
      path.pop();
    }
    for (const k of required) {
      if (!Object.hasOwn(props, k) && !present(k)) {
        path.push(k);
        this.fail(path, 'missing');
      }
    }
    const extra = s.additionalProperties;
    if (extra === false || isObject(extra)) {
      for (const k of Object.keys(v)) {
        if (Object.hasOwn(props, k) || v[k] === undefined) continue;
        path.push(k);
        if (extra === false) this.fail(path, 'is not allowed here');
        this.check(extra as JsonSchema, v[k], path);
        path.pop();
      }
    }
  }
}
