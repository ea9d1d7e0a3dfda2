// `slayer compile FILE`: the LayerMap JSON on stdout, validated at the boundary before printing.
import { validateLayerMap } from '../../protocol/layerMap';
import { compilePlanFile, PlanHasErrors } from '../../modelfiles/planFile';
import type { CliCommand } from '../io';

export const compileCommand: CliCommand = {
  name: 'compile',
  summary: 'compile a plan to its LayerMap JSON (stdout)',
  async run(argv, io) {
    const files = argv.filter((a) => !a.startsWith('-'));
    if (argv.includes('--help') || files.length !== 1) {
      io.out('usage: slayer compile FILE   prints the LayerMap JSON (docs/layermap.md)\n');
      return argv.includes('--help') ? 0 : 2;
    }
    try {
      const map = validateLayerMap(JSON.parse(JSON.stringify(compilePlanFile(files[0]!))));
      io.out(`${JSON.stringify(map, null, 2)}\n`);
      return 0;
    } catch (e) {
      io.err(e instanceof PlanHasErrors ? `${e.lines.join('\n')}\n` : `${files[0]}: ${(e as Error).message}\n`);
      return 1;
    }
  },
};
