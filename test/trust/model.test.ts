/**
 * Issue 11: the model-based adversarial test (see test/helpers/trust-model.ts for the model and the
 * invariants). `npm test` runs a bounded number of seeds; `npm run fuzz:trust` runs more:
 *   TRUST_MODEL_SEEDS=50 TRUST_MODEL_STEPS=120 npm run fuzz:trust
 *   TRUST_MODEL_SEED=17 TRUST_MODEL_SEEDS=1 npx vitest run test/trust/model.test.ts   (reproduce seed 17)
 * TRUST_MODEL_LOG=1 prints each step as it runs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeModelTemplate, runModel, type ModelTemplate } from '../helpers/trust-model.js';

const first = Number(process.env.TRUST_MODEL_SEED ?? 1);
const seeds = Number(process.env.TRUST_MODEL_SEEDS ?? 2);
const steps = Number(process.env.TRUST_MODEL_STEPS ?? 24);

describe('issue 11: model-based adversarial test (two writers, one attacker with push access and no key)', () => {
  // The team is made once (about 15 s of CLI processes on a loaded machine); each seed runs on a byte copy.
  let template: ModelTemplate;
  beforeAll(() => {
    template = makeModelTemplate();
  }, 180_000);
  afterAll(() => template?.team.cleanup());

  for (let seed = first; seed < first + seeds; seed++) {
    it(
      `seed ${seed}, ${steps} steps: reads return only authorised values no older than the clone has seen (or refuse), verify flags every attacker change, no acknowledged version is lost`,
      async () => {
        const log = process.env.TRUST_MODEL_LOG ? (line: string) => console.log(`[seed ${seed}] ${line}`) : undefined;
        const run = await runModel({ template, seed, steps, ...(log ? { log } : {}) });
        expect(run.steps.length).toBeGreaterThanOrEqual(steps);
      },
      // A loaded two-core machine: about half a second a step, plus the team's setup.
      60_000 + steps * 5_000,
    );
  }
});
