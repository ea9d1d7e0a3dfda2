// The extension's settings (`slayer.*`): each name with its type and default, defined once. The
// extension reads them through src/extension/settings.ts, the language server through
// workspace/configuration with these names; test/package/manifest.test.ts holds package.json's
// contributes.configuration (names, JSON types, defaults) to this table.

type Check<T> = (v: unknown) => v is T;

export interface SettingSpec<T> {
  readonly default: T;
  /** The JSON type package.json declares; a value failing it reads as the default. */
  readonly valid: Check<T>;
}

const spec = <T>(def: T, valid: Check<T>): SettingSpec<T> => ({ default: def, valid });
const isBoolean = (v: unknown): v is boolean => typeof v === 'boolean';
const isString = (v: unknown): v is string => typeof v === 'string';
const integerIn = (min: number, max: number) => (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= min && (v as number) <= max;
const integerOrNull = (v: unknown): v is number | null => v === null || Number.isSafeInteger(v);
const oneOf = <T extends string>(...values: T[]) => (v: unknown): v is T => values.includes(v as T);
/** An object; `slayer.hosts` entries are each read by hostSettingsFrom (src/remote/hostSettings.ts). */
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export const SETTINGS_SECTION = 'slayer';

export const SETTINGS = {
  'languageServer.debounceMs': spec(120, integerIn(0, 5000)),
  'languageServer.inlayHints': spec(true, isBoolean),
  'languageServer.remoteModels': spec(true, isBoolean),
  'languageServer.trace.server': spec<'off' | 'messages' | 'verbose'>('off', oneOf('off', 'messages', 'verbose')),
  'runs.tinyModel': spec(false, isBoolean),
  'runs.maxSteps': spec<number | null>(null, integerOrNull),
  hosts: spec<Record<string, unknown>>({}, isRecord),
  defaultHost: spec('localhost', isString),
  sshConfigFile: spec('', isString),
} as const;

export type SettingKey = keyof typeof SETTINGS;
export type SettingValue<K extends SettingKey> = (typeof SETTINGS)[K] extends SettingSpec<infer T> ? T : never;

/** The full name, as in settings.json and `affectsConfiguration`. */
export const settingId = (key: SettingKey): string => `${SETTINGS_SECTION}.${key}`;

/** The section the language server reads its own settings from (and the language client's id: `….trace.server`). */
export const LANGUAGE_SERVER_SECTION = `${SETTINGS_SECTION}.languageServer`;

/** A value from any configuration source, or the default when it is missing or of the wrong type. */
export function settingValue<K extends SettingKey>(key: K, raw: unknown): SettingValue<K> {
  const s = SETTINGS[key] as SettingSpec<SettingValue<K>>;
  return s.valid(raw) ? raw : s.default;
}
