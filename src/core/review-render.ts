/**
 * A review (core/review.ts) as text for a terminal or Markdown for a pull-request comment: only the
 * sections that have something in them, the findings last. JSON is the Review object itself.
 */
import type { AccessChange, Review } from './review.js';

export const REVIEW_FORMATS = ['text', 'markdown', 'json'] as const;
export type ReviewFormat = (typeof REVIEW_FORMATS)[number];

const short = (commit: string) => commit.slice(0, 12);
const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
const scopeText = (s?: readonly string[]) => (s === undefined ? 'whole store' : s.join(', '));

function accessLine(a: AccessChange, code: (s: string) => string): string {
  switch (a.Change) {
    case 'added':
      return `added ${code(a.Name)} ${code(a.Key)} (${scopeText(a.Scope)})`;
    case 'removed':
      return `removed ${code(a.Name)} ${code(a.Key)}`;
    case 'scope changed':
      return `${code(a.Name)} ${code(a.Key)}: scope ${scopeText(a.PreviousScope)} -> ${scopeText(a.Scope)}`;
  }
}

/** The sections as (title, lines), shared by both renderings; `code` marks names and ids. */
function sections(r: Review, code: (s: string) => string): [string, string[]][] {
  const arrow = (from?: string, to?: string) => `${from === undefined ? '(none)' : code(from)} -> ${to === undefined ? '(removed)' : code(to)}`;
  return [
    ['Secrets created', r.Created.map((c) => `${code(c.Secret)} (${plural(c.Versions, 'version')})`)],
    ['Secrets deleted', r.Deleted.map((d) => `${code(d.Secret)} (purge on ${d.DeletionDate.slice(0, 10)})`)],
    ['Secrets restored', r.Restored.map((s) => code(s.Secret))],
    ['Secrets purged', r.Purged.map((s) => code(s.Secret))],
    ['Versions added', r.VersionsAdded.map((v) => `${code(v.Secret)}: ${v.Count}`)],
    ['Versions removed', r.VersionsRemoved.map((v) => `${code(v.Secret)}: ${v.VersionIds.map(code).join(', ')}`)],
    ['Label moves', r.LabelMoves.map((m) => `${code(m.Secret)} ${m.Label} ${arrow(m.From, m.To)}`)],
    ['Rotation commands', r.RotationCommands.map((c) => `${code(c.Secret)}: ${c.From === undefined ? '(none)' : code(c.From)} -> ${c.To === undefined ? '(removed)' : code(c.To)}`)],
    [
      'Resource policies (recorded, not enforced offline)',
      r.ResourcePolicies.map((p) => `${code(p.Secret)}: ${p.Change}${[...p.Removed.map((l) => `\n    - ${l}`), ...p.Added.map((l) => `\n    + ${l}`)].join('')}`),
    ],
    [
      'Replica Regions (recorded, no replica is made offline)',
      r.ReplicaRegions.map((g) => `${code(g.Secret)}: ${[...g.Added.map((x) => `+${x}`), ...g.Removed.map((x) => `-${x}`)].join(' ')}`),
    ],
    ['Recipients', r.Recipients.map((a) => accessLine(a, code))],
    ['Trusted writers', r.Writers.map((a) => accessLine(a, code))],
    ['Policy', r.Policy.map((p) => `${p.Field}: ${p.From} -> ${p.To}`)],
  ];
}

export function renderReviewText(r: Review): string {
  const out = [`Review of ${r.Range}: ${plural(r.Commits, 'commit')} (merge base ${short(r.MergeBase)}, head ${short(r.Head)})`];
  const filled = sections(r, (s) => s).filter(([, lines]) => lines.length > 0);
  for (const [title, lines] of filled) out.push('', `${title} (${lines.length}):`, ...lines.map((l) => `  ${l}`));
  if (filled.length === 0) out.push('', 'No change to secrets, access or policy.');
  out.push('');
  if (r.Findings.length === 0) out.push('No findings.');
  else out.push(`Findings (${r.Findings.length}):`, ...r.Findings.map((f) => `  [${f.Rule}] ${f.Message}`));
  return out.join('\n') + '\n';
}

/** Inline code that survives any content (a name never holds a backtick, but a commit subject may). */
function mdCode(s: string): string {
  const ticks = '`'.repeat(Math.max(0, ...[...s.matchAll(/`+/g)].map((m) => m[0].length)) + 1);
  return ticks.length > 1 || s.startsWith('`') || s.endsWith('`') ? `${ticks} ${s} ${ticks}` : `${ticks}${s}${ticks}`;
}

/** Plain text in Markdown: no HTML, no emphasis or links from a commit subject. */
function mdText(s: string): string {
  return s.replace(/[\\`*_[\]<>|#]/g, (c) => `\\${c}`);
}

export function renderReviewMarkdown(r: Review): string {
  const out = [
    `### secretstore review of ${mdCode(r.Range)}`,
    '',
    `${plural(r.Commits, 'commit')}, merge base ${mdCode(short(r.MergeBase))}, head ${mdCode(short(r.Head))}.`,
  ];
  const filled = sections(r, mdCode).filter(([, lines]) => lines.length > 0);
  for (const [title, lines] of filled) {
    if (title === 'Label moves') {
      out.push('', `**${title}** (${lines.length})`, '', '| Secret | Label | From | To |', '| --- | --- | --- | --- |');
      for (const m of r.LabelMoves) {
        out.push(`| ${mdCode(m.Secret)} | ${mdCode(m.Label)} | ${m.From === undefined ? '(none)' : mdCode(m.From)} | ${m.To === undefined ? '(removed)' : mdCode(m.To)} |`);
      }
      continue;
    }
    if (title.startsWith('Resource policies')) {
      // The policy's lines as a diff block; the fence outlasts any backtick run inside the policy.
      out.push('', `**${title}** (${lines.length})`);
      for (const p of r.ResourcePolicies) {
        const body = [...p.Removed.map((l) => `- ${l}`), ...p.Added.map((l) => `+ ${l}`)];
        const fence = '`'.repeat(Math.max(2, ...body.flatMap((l) => [...l.matchAll(/`+/g)].map((m) => m[0].length))) + 1);
        out.push('', `- ${mdCode(p.Secret)}: ${p.Change}`, '', `${fence}diff`, ...body, fence);
      }
      continue;
    }
    out.push('', `**${title}** (${lines.length})`, '', ...lines.map((l) => `- ${l}`));
  }
  if (filled.length === 0) out.push('', 'No change to secrets, access or policy.');
  out.push('');
  if (r.Findings.length === 0) out.push('**No findings.**');
  else out.push(`**Findings** (${r.Findings.length})`, '', ...r.Findings.map((f) => `- :warning: ${mdCode(f.Rule)} ${mdText(f.Message)}`));
  return out.join('\n') + '\n';
}

export function renderReview(r: Review, format: ReviewFormat): string {
  if (format === 'json') return JSON.stringify(r, null, 4) + '\n';
  return format === 'markdown' ? renderReviewMarkdown(r) : renderReviewText(r);
}
