// The typed accessor of the extension's settings: names, types and defaults come from the table
// in src/protocol/settings.ts; a value of the wrong type reads as the default.
import * as vscode from 'vscode';
import { SETTINGS_SECTION, settingValue, type SettingKey, type SettingValue } from '../protocol/settings';

export function setting<K extends SettingKey>(key: K): SettingValue<K> {
  return settingValue(key, vscode.workspace.getConfiguration(SETTINGS_SECTION).get(key));
}

/** The user-settings (global) value, undefined when the user set none. */
export function globalSetting<K extends SettingKey>(key: K): SettingValue<K> | undefined {
  const v = vscode.workspace.getConfiguration(SETTINGS_SECTION).inspect(key)?.globalValue;
  return v === undefined ? undefined : settingValue(key, v);
}

export async function updateGlobalSetting<K extends SettingKey>(key: K, value: SettingValue<K>): Promise<void> {
  await vscode.workspace.getConfiguration(SETTINGS_SECTION).update(key, value, vscode.ConfigurationTarget.Global);
}
