import { readFileSync } from 'node:fs';
import tseslint from 'typescript-eslint';

// The room table (rooms.json) as no-restricted-imports rules, so the editor marks an import that
// points the wrong way as it is typed. test/contracts/importDirection.test.ts is the full check
// (it resolves every import); these patterns catch the common slips: another room by its @slayer/
// name or by a relative path, climbing out of language-server/ or webview/ into src/, a package
// (vscode above all) where the room has no business with it.
const { rooms } = JSON.parse(readFileSync(new URL('./rooms.json', import.meta.url), 'utf8'));
const folderOf = (room) => rooms[room].path.split('/').pop();
const roomRules = Object.entries(rooms).filter(([name]) => name !== 'contracts').map(([name, room]) => {
  const forbidden = Object.keys(rooms).filter((r) => r !== name && r !== 'contracts' && !room.imports.includes(r));
  const names = forbidden.join('|');
  const folders = forbidden.map(folderOf).join('|');
  const why = `${name} may import only ${room.imports.join(', ') || 'nothing'} (rooms.json, docs/architecture.md)`;
  const patterns = [
    { regex: `^@slayer/(${names})(/|$)`, message: why },
    { regex: `^(\\.\\./)+(${folders})(/|$)`, message: why },
  ];
  if (!room.path.startsWith('src/')) patterns.push({ regex: '^(\\.\\./)+src(/|$)', message: `${name} is a TypeScript project of its own: import src/ rooms by their @slayer/ name` });
  if (room.packages.length === 0) patterns.push({ regex: '^(?!\\.|@slayer/)', message: `${name} is pure: no packages, no node: built-ins` });
  const paths = room.packages.includes('vscode') ? [] : [{ name: 'vscode', message: `only the extension imports vscode; ${why}` }];
  return { files: [`${room.path}/**/*.ts`], rules: { 'no-restricted-imports': ['error', { paths, patterns }] } };
});

export default tseslint.config(
  { ignores: ['dist/**', 'out/**', 'node_modules/**', '.venv/**', '.tools/**', '.cache/**', '.vscode-test/**', 'runner/**', 'demo-output/**', 'test-results/**', 'test-artifacts/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      eqeqeq: ['error', 'always'],
    },
  },
  ...roomRules,
  { files: ['**/*.mjs', '**/*.js'], rules: { '@typescript-eslint/no-require-imports': 'off' } },
);
