// The expansion notation (src/core/expansion.ts): each syntax error points at what is wrong.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyzePlan, type PlanDiagnostic } from '../../src/core';

/** The text a diagnostic points at. */
const at = (text: string, d: PlanDiagnostic): string => text.slice(d.span.start, d.span.end);
const find = (ds: PlanDiagnostic[], code: string): PlanDiagnostic[] => ds.filter((d) => d.code === code);

const MODEL = 'model meta-llama/Llama-2-7b-hf\n';

const EXPANSION_ERRORS: [string, string, RegExp][] = [
  ['(2+1)x8 | 1q3 | 1◇', 'q3', /unexpected "q3"/],
  ['(2+)x8', ')', /number of new blocks/],
  ['(+1)x8', '+', /number of kept blocks/],
  ['(2-1)x8', '-', /expected "\+"/],
  ['(2+1 x8', 'x', /expected "\)"/],
  ['(2+1)x', '', /repeat count/],
  ['(2+1)x8 || 13', '|', /between two "\|"/],
  ['| (2+1)x8', '|', /before "\|"/],
  ['(2+1)x8 |', '|', /after the last "\|"/],
  ['(2+1)x8 | 13 | 1◇ | @', '@', /unexpected "@"/],
  ['(0+1)x8', '0', /keep at least one block/],
  ['(2+1)x0', '0', /repeated 0 times/],
  ['(2+1)x8 -', '-', /number after "-"/],
];

for (const [expr, pointed, message] of EXPANSION_ERRORS) {
  test(`expansion error in "${expr}" points at "${pointed}"`, () => {
    const text = `${MODEL}expand ${expr}\n`;
    const errs = find(analyzePlan(text).diagnostics, 'SL021');
    assert.equal(errs.length, 1, JSON.stringify(errs));
    assert.match(errs[0]!.message, message);
    if (pointed) assert.equal(at(text, errs[0]!), pointed);
    else assert.equal(errs[0]!.span.start, text.indexOf('\n', MODEL.length)); // at the end of the expression
  });
}
