// The extension's commands, defined once: package.json contributes them (test/package/manifest.test.ts
// holds the manifest to this table), the extension registers one handler per key in one loop
// (src/extension/commands.ts, where a missing handler is a type error), and everything else —
// the language server's code lenses and quick fixes, tree items, the status bar, notifications —
// names a command through this table instead of spelling its id.
export const COMMANDS = {
  // Plans
  compilePlan: 'slayer.compilePlan',
  explainPlan: 'slayer.explainPlan',
  openDemoPlan: 'slayer.openDemoPlan',
  // Runs
  runExpansion: 'slayer.runExpansion',
  runExpansionOn: 'slayer.runExpansionOn',
  runSweep: 'slayer.runSweep',
  showSweepCurves: 'slayer.showSweepCurves',
  compareSweep: 'slayer.compareSweep',
  exportSweepTable: 'slayer.exportSweepTable',
  cancelRun: 'slayer.cancelRun',
  reattachRun: 'slayer.reattachRun',
  resumeRun: 'slayer.resumeRun',
  renameRun: 'slayer.renameRun',
  openRemoteLog: 'slayer.openRemoteLog',
  fetchArtifacts: 'slayer.fetchArtifacts',
  deleteRun: 'slayer.deleteRun',
  openRunReport: 'slayer.openRunReport',
  setHuggingFaceToken: 'slayer.setHuggingFaceToken',
  // Hosts
  addHost: 'slayer.addHost',
  choosePython: 'slayer.choosePython',
  // Views
  showImportance: 'slayer.showImportance',
  showLayerMap: 'slayer.showLayerMap',
  showTrainingCurves: 'slayer.showTrainingCurves',
  showEvaluation: 'slayer.showEvaluation',
  suggestExpansion: 'slayer.suggestExpansion',
  compareRuns: 'slayer.compareRuns',
} as const;

export type CommandKey = keyof typeof COMMANDS;
export type CommandId = (typeof COMMANDS)[CommandKey];

/**
 * Registered but not contributed (not in the palette): `compilePlan` returns a LayerMap, for Run
 * Expansion, the views and tests, not for a person.
 */
export const INTERNAL_COMMANDS: readonly CommandKey[] = ['compilePlan'];

export const COMMAND_KEYS = Object.keys(COMMANDS) as CommandKey[];
