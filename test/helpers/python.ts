// The project's Python interpreter for tests that run the real runner: the venv scripts/setup.sh
// builds (torch 2.x + transformers), or SLAYER_PYTHON when set. One place, so no test falls back to
// a system Python that lacks torch.
import { join } from 'node:path';

const root = join(__dirname, '..', '..');
export const PROJECT_PYTHON = process.env.SLAYER_PYTHON || join(root, '.venv', 'bin', 'python');
