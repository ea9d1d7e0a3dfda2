// The project's Python interpreter (the venv scripts/setup.sh builds), for the scripts that run the
// runner: tests, benchmarks, the demo. SLAYER_PYTHON points elsewhere (another venv, a GPU host's).
import { join } from 'node:path';

export function projectPython(root) {
  return process.env.SLAYER_PYTHON || join(root, '.venv', 'bin', 'python');
}
