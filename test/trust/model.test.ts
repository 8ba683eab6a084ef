/**
 * Issue 11: the model-based adversarial test (see test/helpers/trust-model.ts for the model and the
 * invariants). `npm test` runs a bounded number of seeds; `npm run fuzz:trust` runs more:
 *   TRUST_MODEL_SEEDS=50 TRUST_MODEL_STEPS=120 npm run fuzz:trust
 *   TRUST_MODEL_SEED=17 TRUST_MODEL_SEEDS=1 npx vitest run test/trust/model.test.ts   (reproduce seed 17)
 * TRUST_MODEL_LOG=1 prints each step as it runs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeModelTemplate, runModel, type ModelTemplate } from '../helpers/trust-model.js';
import { buildTree, commitTree, copyTeam, fetchHead, graph, parentsOf, pushAs } from '../helpers/trust.js';

const first = Number(process.env.TRUST_MODEL_SEED ?? 1);
const seeds = Number(process.env.TRUST_MODEL_SEEDS ?? 2);
const steps = Number(process.env.TRUST_MODEL_STEPS ?? 20);

describe('issue 11: model-based adversarial test (two writers, one attacker with push access and no key)', () => {
  // The team is made once (about 15 s of CLI processes on a loaded machine); each seed runs on a byte copy.
  let template: ModelTemplate;
  beforeAll(() => {
    template = makeModelTemplate();
  }, 180_000);
  afterAll(() => template?.team.cleanup());

  it("the attacker's tools make the histories the model assumes (parents, roots, git log --graph)", () => {
    const t = copyTeam(template.team);
    try {
      const m = t.mallory;
      const head = fetchHead(m);
      const old = m.git(['rev-parse', `${head}~1`]).trim();
      const path = 'secrets/s0/secret.yaml';
      const restore = commitTree(m, buildTree(m, head, [{ path: 'secrets/s0', from: t.root }]), [head], 'restore');
      expect(parentsOf(m, restore)).toEqual([head]);
      expect(m.tryGit(['cat-file', '-e', `${restore}:${path}`]).status).not.toBe(0); // s0 did not exist at the root
      expect(m.git(['rev-parse', `${restore}:secrets/s1`])).toBe(m.git(['rev-parse', `${head}:secrets/s1`]));

      const merge = commitTree(m, buildTree(m, head, [{ path: '.secretstore.yaml', from: t.root }]), [head, t.root], 'Merge');
      expect(parentsOf(m, merge)).toEqual([head, t.root]);
      expect(graph(m, merge).split('\n').slice(0, 2).map((l) => l.slice(0, 3))).toEqual(['*  ', '|\\ ']);
      expect(m.git(['show', `${merge}:.secretstore.yaml`])).toBe(m.git(['show', `${t.root}:.secretstore.yaml`]));

      const orphan = template.orphanTip;
      const orphanMerge = commitTree(m, buildTree(m, head, [{ path: '.secretstore.yaml', from: orphan }]), [orphan, head], 'Merge');
      const roots = m.git(['rev-list', '--max-parents=0', orphanMerge]).split('\n').filter(Boolean);
      expect(roots).toHaveLength(2);
      expect(roots).toContain(t.root);
      expect(m.git(['rev-list', '--first-parent', orphanMerge])).not.toContain(t.root);
      expect(m.git(['show', `${orphanMerge}:.secretstore.yaml`])).toContain(m.writerKey);

      pushAs(m, orphanMerge);
      expect(t.remoteHead()).toBe(orphanMerge);
      pushAs(m, old, { force: true });
      expect(t.remoteHead()).toBe(old);
      const rewrite = commitTree(m, m.git(['rev-parse', `${head}^{tree}`]).trim(), [t.root], 'squash');
      pushAs(m, rewrite, { force: true });
      expect(t.remoteHead()).toBe(rewrite);
      expect(fetchHead(m)).toBe(rewrite);
      expect(m.git(['rev-list', '--count', rewrite]).trim()).toBe('2');
    } finally {
      t.cleanup();
    }
  });

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
