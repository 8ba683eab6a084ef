import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmodSync, existsSync, mkdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, makeStore, type TestStore } from './helpers/store.js';
import type { Store } from '../src/index.js';
import { parseSecretIndex } from '../src/core/codec.js';
import { indexPath, versionPath } from '../src/core/layout.js';
import type { SecretIndex } from '../src/model/store.js';
import { checkRotationRules } from '../src/ops/rotate-secret.js';
import { nextRotationDate } from '../src/core/schedule.js';
import { rotateDue } from '../src/store/workflows.js';

const T = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const DAY = 86_400_000;

/**
 * A rotation function as AWS's templates write them, driving the real CLI. Its control folder holds
 * switches (`fail-<step>`: exit 3 at that step; `skip-finish`: do not move AWSCURRENT; `cancel-at-setSecret`:
 * cancel the rotation from inside; `echo`: print a line on stdout) and what it saw (`env.log`, `events.log`, `probe`, `test`).
 */
function rotationScript(ctl: string): string {
  const node = JSON.stringify(process.execPath);
  const cli = JSON.stringify(CLI);
  return `#!/bin/sh
set -u
CTL=${JSON.stringify(ctl)}
ss() { ${node} ${cli} "$@"; }
tool() { ${node} "$CTL/tool.cjs" "$@"; }
event=$(cat)
printf '%s|%s|%s|%s|%s\\n' "$SECRETSTORE_STEP" "$SECRETSTORE_SECRET_ID" "$SECRETSTORE_CLIENT_REQUEST_TOKEN" "$SECRETSTORE_ROTATION_TOKEN" "$(pwd -P)" >> "$CTL/env.log"
printf '%s\\n' "$event" >> "$CTL/events.log"
[ -f "$CTL/echo" ] && echo "this line goes to stderr, not to the CLI's JSON on stdout: $SECRETSTORE_STEP"
[ -f "$CTL/fail-$SECRETSTORE_STEP" ] && exit 3
id="$SECRETSTORE_SECRET_ID"
token="$SECRETSTORE_CLIENT_REQUEST_TOKEN"
case "$SECRETSTORE_STEP" in
createSecret)
  if ss get-secret-value --secret-id "$id" --version-id "$token" --version-stage AWSPENDING > /dev/null 2> "$CTL/probe.err"; then
    echo found >> "$CTL/probe"
  else
    echo "notfound $?" >> "$CTL/probe"
    ss get-random-password --password-length 24 --exclude-punctuation > "$CTL/pw.json" || exit 1
    tool field RandomPassword < "$CTL/pw.json" |
      ss put-secret-value --secret-id "$id" --client-request-token "$token" --version-stages AWSPENDING \\
        --secret-string - --rotation-token "$SECRETSTORE_ROTATION_TOKEN" > "$CTL/put.json" 2>> "$CTL/stderr" || exit 1
  fi ;;
setSecret)
  if [ -f "$CTL/cancel-at-setSecret" ]; then ss cancel-rotate-secret --secret-id "$id" > /dev/null || exit 1; fi ;;
testSecret)
  if ss get-secret-value --secret-id "$id" --version-stage AWSPENDING > /dev/null 2>&1; then echo ok >> "$CTL/test"; else echo missing >> "$CTL/test"; fi ;;
finishSecret)
  [ -f "$CTL/skip-finish" ] && exit 0
  current=$(ss describe-secret --secret-id "$id" | tool current) || exit 1
  [ "$current" = "$token" ] && exit 0
  ss update-secret-version-stage --secret-id "$id" --version-stage AWSCURRENT \\
    --move-to-version-id "$token" --remove-from-version-id "$current" > /dev/null || exit 1 ;;
esac
exit 0
`;
}

const TOOL = `const input = require('fs').readFileSync(0, 'utf8');
const data = JSON.parse(input);
const [cmd, arg] = process.argv.slice(2);
if (cmd === 'field') process.stdout.write(String(data[arg]));
if (cmd === 'current') {
  for (const [id, stages] of Object.entries(data.VersionIdsToStages || {})) if (stages.includes('AWSCURRENT')) process.stdout.write(id);
}
`;

interface Rotator {
  readonly ctl: string;
  /** The command to configure: `sh <script>`. */
  readonly command: string;
  set(flag: string, on?: boolean): void;
  lines(file: string): string[];
}

let t: TestStore;
let store: Store;
let seq = 0;

function rotator(t: TestStore): Rotator {
  const ctl = join(t.base, `rotator-${++seq}`);
  mkdirSync(ctl, { recursive: true });
  writeFileSync(join(ctl, 'rotate.sh'), rotationScript(ctl));
  writeFileSync(join(ctl, 'tool.cjs'), TOOL);
  return {
    ctl,
    command: `sh '${join(ctl, 'rotate.sh')}'`,
    set: (flag, on = true) => (on ? writeFileSync(join(ctl, flag), '') : rmSync(join(ctl, flag), { force: true })),
    lines: (file) => (existsSync(join(ctl, file)) ? readFileSync(join(ctl, file), 'utf8').split('\n').filter(Boolean) : []),
  };
}

function index(t: TestStore, name: string): SecretIndex {
  return parseSecretIndex(readFileSync(join(t.dir, indexPath(name)), 'utf8'), indexPath(name));
}
async function stages(s: Store, name: string): Promise<Record<string, string[]>> {
  return (await s.describeSecret({ SecretId: name })).VersionIdsToStages ?? {};
}
function head(t: TestStore): string {
  return t.git(['rev-parse', 'HEAD']).trim();
}
function clean(t: TestStore): string {
  return t.git(['status', '--porcelain']);
}
async function secret(s: Store, value = 'v0', opts: { name?: string } = {}): Promise<string> {
  const name = opts.name ?? `rotation-test-${++seq}`;
  await s.createSecret({ Name: name, SecretString: value, ClientRequestToken: T(0) });
  return name;
}

beforeAll(async () => {
  t = makeStore();
  store = await t.open();
});
afterAll(() => t.cleanup());

describe('RotateSecret (spec 3.15, 8.7 rows 82-84)', () => {
  it('without a rotation function configured or given: InvalidRequestException, nothing committed (#82)', async () => {
    const name = await secret(store);
    const before = head(t);
    await expect(store.rotateSecret({ SecretId: name })).rejects.toMatchObject({
      name: 'InvalidRequestException',
      message: 'No Lambda rotation function ARN is associated with this secret.',
    });
    expect(head(t)).toBe(before);
  });

  it('runs the four steps; during createSecret the token is not found; after finishSecret old {AWSPREVIOUS}, new {AWSCURRENT} (#83)', async () => {
    const r = rotator(t);
    const name = await secret(store);
    const before = head(t);
    const res = await store.rotateSecret({
      SecretId: name,
      ClientRequestToken: T(9),
      RotationLambdaARN: r.command,
      RotationRules: { AutomaticallyAfterDays: 30 },
    });
    const arn = index(t, name).arn;
    expect(res).toEqual({ ARN: arn, Name: name, VersionId: T(9) });

    // The script's own check, from inside createSecret: the placeholder has no value yet.
    expect(r.lines('probe')).toEqual(['notfound 254']);
    expect(readFileSync(join(r.ctl, 'probe.err'), 'utf8')).toContain('(ResourceNotFoundException)');
    expect(r.lines('test')).toEqual(['ok']);

    const labels = await stages(store, name);
    expect(labels[T(0)]).toEqual(['AWSPREVIOUS']);
    expect(labels[T(9)]).toContain('AWSCURRENT');
    const current = await store.getSecretValue({ SecretId: name });
    expect(current.VersionId).toBe(T(9));
    expect(current.SecretString).toMatch(/^[A-Za-z0-9]{24}$/);
    expect((await store.getSecretValue({ SecretId: name, VersionStage: 'AWSPREVIOUS' })).SecretString).toBe('v0');

    // The event: in order, on stdin and in the environment, the same RotationToken throughout.
    const events = r.lines('events.log').map((l) => JSON.parse(l) as Record<string, string>);
    expect(events.map((e) => e.Step)).toEqual(['createSecret', 'setSecret', 'testSecret', 'finishSecret']);
    expect(new Set(events.map((e) => e.RotationToken)).size).toBe(1);
    expect(events[0]!.RotationToken).toMatch(/^[a-zA-Z0-9-]{36,256}$/);
    for (const e of events) expect(Object.keys(e).sort()).toEqual(['ClientRequestToken', 'RotationToken', 'SecretId', 'Step']);
    expect(events.every((e) => e.SecretId === arn && e.ClientRequestToken === T(9))).toBe(true);
    const env = r.lines('env.log').map((l) => l.split('|'));
    expect(env.map(([step, id, token, rot]) => ({ Step: step, SecretId: id, ClientRequestToken: token, RotationToken: rot }))).toEqual(events);
    expect(env.every((e) => e[4] === realpathSync(t.dir))).toBe(true); // cwd = the store root

    // Recorded in the index: function, rules, LastRotatedDate, NextRotationDate 30 days later.
    const rotation = index(t, name).rotation!;
    expect(rotation).toMatchObject({ enabled: true, lambdaArn: r.command, rules: { AutomaticallyAfterDays: 30 } });
    expect(Date.parse(rotation.nextRotationDate!) - Date.parse(rotation.lastRotatedDate!)).toBe(30 * DAY);
    expect(index(t, name).placeholders).toBeUndefined();
    const described = await store.describeSecret({ SecretId: name });
    expect(described).toMatchObject({ RotationEnabled: true, RotationLambdaARN: r.command, RotationRules: { AutomaticallyAfterDays: 30 } });
    expect(described.LastRotatedDate).toBeInstanceOf(Date);

    // Commits: start, the put, the label move, finish; the work tree is clean; no value in a message.
    const log = t.git(['log', '--format=%B%x00', `${before}..HEAD`]).split('\0').map((m) => m.trim()).filter(Boolean);
    expect(log.map((m) => m.split(' ')[0])).toEqual(['rotate-secret', 'update-secret-version-stage', 'put-secret-value', 'rotate-secret']);
    expect(log.join('\n')).not.toContain(current.SecretString);
    expect(clean(t)).toBe('');
  });

  it('while AWSPENDING is on a version other than AWSCURRENT: InvalidRequestException, nothing committed (#84)', async () => {
    const r = rotator(t);
    const name = await secret(store);
    await store.putSecretValue({ SecretId: name, SecretString: 'p', ClientRequestToken: T(1), VersionStages: ['AWSPENDING'] });
    const before = head(t);
    await expect(store.rotateSecret({ SecretId: name, RotationLambdaARN: r.command })).rejects.toMatchObject({
      name: 'InvalidRequestException',
      message: "A previous rotation isn't complete. That rotation will be reattempted.",
    });
    expect(head(t)).toBe(before);
    expect(r.lines('events.log')).toEqual([]);
  });

  it('AWSPENDING on the AWSCURRENT version is no obstacle: it moves to the new token (3.15 step 3)', async () => {
    const r = rotator(t);
    const name = await secret(store);
    await store.updateSecretVersionStage({ SecretId: name, VersionStage: 'AWSPENDING', MoveToVersionId: T(0) });
    await store.rotateSecret({ SecretId: name, ClientRequestToken: T(2), RotationLambdaARN: r.command });
    expect(await stages(store, name)).toMatchObject({ [T(0)]: ['AWSPREVIOUS'] });
    expect((await stages(store, name))[T(2)]).toEqual(['AWSCURRENT', 'AWSPENDING']);
  });

  it('a failing step stops the rotation, names the step and exit code, leaves AWSCURRENT and a clean store (3.15 step 7)', async () => {
    const r = rotator(t);
    r.set('fail-setSecret');
    const name = await secret(store);
    const err = await store
      .rotateSecret({ SecretId: name, ClientRequestToken: T(3), RotationLambdaARN: r.command })
      .then(() => undefined, (e: unknown) => e as Error);
    expect(err?.name).toBe('InvalidRequestException');
    expect(err?.message).toContain(`Rotation of secret ${name} failed at step setSecret: the rotation command exited with code 3.`);
    expect(err?.message).toContain(`AWSPENDING stays on version ${T(3)}`);
    expect(r.lines('events.log').map((l) => JSON.parse(l).Step)).toEqual(['createSecret', 'setSecret']);

    const current = await store.getSecretValue({ SecretId: name });
    expect(current.VersionId).toBe(T(0));
    expect(current.SecretString).toBe('v0');
    expect(await stages(store, name)).toEqual({ [T(0)]: ['AWSCURRENT'], [T(3)]: ['AWSPENDING'] });
    expect(index(t, name).rotation?.lastRotatedDate).toBeUndefined();
    expect(clean(t)).toBe('');

    // The same token resumes it (an idempotent retry); createSecret finds its version and skips the put.
    r.set('fail-setSecret', false);
    await store.rotateSecret({ SecretId: name, ClientRequestToken: T(3) });
    expect(r.lines('probe')).toEqual(['notfound 254', 'found']);
    expect(await stages(store, name)).toEqual({ [T(0)]: ['AWSPREVIOUS'], [T(3)]: ['AWSCURRENT', 'AWSPENDING'] });
    expect(index(t, name).rotation?.lastRotatedDate).toBeDefined();
    expect(clean(t)).toBe('');
  });

  it('a finishSecret that does not move AWSCURRENT fails the rotation; LastRotatedDate is not recorded (3.15 step 6)', async () => {
    const r = rotator(t);
    r.set('skip-finish');
    const name = await secret(store);
    await expect(store.rotateSecret({ SecretId: name, ClientRequestToken: T(4), RotationLambdaARN: r.command })).rejects.toMatchObject({
      name: 'InvalidRequestException',
      message: expect.stringContaining(`without moving AWSCURRENT to version ${T(4)}`),
    });
    expect((await store.getSecretValue({ SecretId: name })).VersionId).toBe(T(0));
    expect(index(t, name).rotation?.lastRotatedDate).toBeUndefined();
  });

  it('a cancel while the command runs stops the rotation before the next step (3.15 CancelRotateSecret)', async () => {
    const r = rotator(t);
    r.set('cancel-at-setSecret');
    const name = await secret(store);
    await expect(store.rotateSecret({ SecretId: name, ClientRequestToken: T(5), RotationLambdaARN: r.command })).rejects.toMatchObject({
      name: 'InvalidRequestException',
      message: expect.stringContaining('Rotation stopped before step testSecret: rotation was cancelled'),
    });
    expect(r.lines('events.log').map((l) => JSON.parse(l).Step)).toEqual(['createSecret', 'setSecret']);
    expect((await store.getSecretValue({ SecretId: name })).VersionId).toBe(T(0));
    expect(clean(t)).toBe('');
  });

  it('RotateImmediately=false runs only testSecret, on a placeholder it then removes; schedules from the current value (3.15 step 6)', async () => {
    const r = rotator(t);
    const name = await secret(store);
    const created = Date.parse(index(t, name).versions[T(0)]!);
    const res = await store.rotateSecret({
      SecretId: name,
      ClientRequestToken: T(6),
      RotationLambdaARN: r.command,
      RotationRules: { ScheduleExpression: 'rate(10 days)' },
      RotateImmediately: false,
    });
    expect(res.VersionId).toBe(T(6));
    expect(r.lines('events.log').map((l) => JSON.parse(l).Step)).toEqual(['testSecret']);
    expect(r.lines('test')).toEqual(['missing']); // the placeholder has no value
    expect(await stages(store, name)).toEqual({ [T(0)]: ['AWSCURRENT'] });
    const after = index(t, name);
    expect(after.placeholders).toBeUndefined();
    expect(after.rotation).toMatchObject({ enabled: true, rules: { ScheduleExpression: 'rate(10 days)' } });
    expect(after.rotation?.lastRotatedDate).toBeUndefined();
    expect(Date.parse(after.rotation!.nextRotationDate!)).toBe(created + 10 * DAY);
    expect(clean(t)).toBe('');
  });

  it('a later rotate-secret reuses the configured function and rules (3.15 step 2)', async () => {
    const r = rotator(t);
    const name = await secret(store);
    await store.rotateSecret({ SecretId: name, RotationLambdaARN: r.command, RotationRules: { AutomaticallyAfterDays: 7 }, RotateImmediately: false });
    const res = await store.rotateSecret({ SecretId: name, ClientRequestToken: T(7) });
    expect((await store.getSecretValue({ SecretId: name })).VersionId).toBe(res.VersionId);
    expect(index(t, name).rotation).toMatchObject({ lambdaArn: r.command, rules: { AutomaticallyAfterDays: 7 } });
  });

  it('a token that is already a version is ResourceExistsException (2.8)', async () => {
    const r = rotator(t);
    const name = await secret(store);
    await expect(store.rotateSecret({ SecretId: name, ClientRequestToken: T(0), RotationLambdaARN: r.command })).rejects.toMatchObject({
      name: 'ResourceExistsException',
    });
  });

  it('RotationRules are checked before anything is stored (3.15 request)', async () => {
    const r = rotator(t);
    const name = await secret(store);
    const before = head(t);
    const rotate = (rules: object) => store.rotateSecret({ SecretId: name, RotationLambdaARN: r.command, RotationRules: rules });
    await expect(rotate({ AutomaticallyAfterDays: 30, ScheduleExpression: 'rate(30 days)' })).rejects.toMatchObject({ name: 'InvalidParameterException' });
    await expect(rotate({ AutomaticallyAfterDays: 0 })).rejects.toMatchObject({ name: 'ValidationException' });
    await expect(rotate({ AutomaticallyAfterDays: 1001 })).rejects.toMatchObject({ name: 'ValidationException' });
    await expect(rotate({ ScheduleExpression: 'rate(2 hours)' })).rejects.toMatchObject({ name: 'InvalidParameterException' });
    await expect(rotate({ ScheduleExpression: 'cron(0 0 * * * *)' })).rejects.toMatchObject({ name: 'InvalidParameterException' });
    await expect(rotate({ AutomaticalyAfterDays: 3 })).rejects.toMatchObject({ name: 'InvalidParameterException' });
    await expect(rotate({ Duration: '3h' })).rejects.toMatchObject({ name: 'InvalidParameterException' });
    expect(head(t)).toBe(before);
    expect(r.lines('events.log')).toEqual([]);
  });

  it('schedules: days and rate() count from the last rotation, cron() names UTC times (3.15 RotationRules)', () => {
    const base = new Date('2026-03-01T10:00:00.000Z');
    const now = new Date('2026-03-02T12:34:56.000Z');
    const next = (rules: object) => nextRotationDate(checkRotationRules(rules), base, now)?.toISOString();
    expect(next({ AutomaticallyAfterDays: 30 })).toBe('2026-03-31T10:00:00.000Z');
    expect(next({ ScheduleExpression: 'rate(4 hours)' })).toBe('2026-03-01T14:00:00.000Z');
    expect(next({ ScheduleExpression: 'rate(1 day)', Duration: '2h' })).toBe('2026-03-02T10:00:00.000Z');
    expect(next({ ScheduleExpression: 'cron(0 16 1,15 * ? *)' })).toBe('2026-03-15T16:00:00.000Z');
    expect(next({ ScheduleExpression: 'cron(0 3 ? * MON *)' })).toBe('2026-03-09T03:00:00.000Z'); // 2026-03-02 is a Monday, past 03:00
    expect(next({ ScheduleExpression: 'cron(30 12-13 ? * 2-6 *)' })).toBe('2026-03-02T13:30:00.000Z');
    expect(next({ ScheduleExpression: 'cron(0 0 1 JAN ? 2027)' })).toBe('2027-01-01T00:00:00.000Z');
    expect(next({ ScheduleExpression: 'cron(0 0 L * ? *)' })).toBe('2026-03-31T00:00:00.000Z'); // L: the last day of the month
    expect(next({ ScheduleExpression: 'cron(0 9 ? * 2#1 *)' })).toBe('2026-04-06T09:00:00.000Z'); // the first Monday
    expect(() => checkRotationRules({ ScheduleExpression: 'cron(0 0 * * ? 1800)' })).toThrow(/Invalid ScheduleExpression/);
    expect(() => checkRotationRules({ AutomaticallyAfterDays: '30' as unknown as number })).not.toThrow(); // CLI shorthand text
  });

  it('through the CLI: the flags map to the members and stdout is only the JSON response', () => {
    const r = rotator(t);
    r.set('echo');
    const name = `rotation-cli-${++seq}`;
    const created = t.cli(['create-secret', '--name', name, '--secret-string', '-', '--client-request-token', T(0)], { input: 'v0' });
    expect(created.status).toBe(0);
    const res = t.cli([
      'rotate-secret', '--secret-id', name, '--client-request-token', T(8), '--rotation-lambda-arn', r.command,
      '--rotation-rules', 'AutomaticallyAfterDays=15',
    ]);
    expect(res.stderr).toContain('this line goes to stderr');
    expect(res.status).toBe(0);
    expect(res.json()).toMatchObject({ Name: name, VersionId: T(8) });
    expect(index(t, name).rotation?.rules).toEqual({ AutomaticallyAfterDays: 15 });
    expect(t.cli(['get-secret-value', '--secret-id', name]).json()).toMatchObject({ VersionId: T(8), VersionStages: expect.arrayContaining(['AWSCURRENT']) });

    const test = t.cli(['rotate-secret', '--secret-id', name, '--no-rotate-immediately']);
    expect(test.status).toBe(0);
    expect(r.lines('events.log').map((l) => JSON.parse(l).Step).at(-1)).toBe('testSecret');
    expect(clean(t)).toBe('');
  });

  it('the command runs in the store folder, so a script committed to the repository is named relative to it', async () => {
    const r = rotator(t);
    mkdirSync(join(t.dir, 'rotation'), { recursive: true });
    writeFileSync(join(t.dir, 'rotation', 'rotate.sh'), rotationScript(r.ctl));
    chmodSync(join(t.dir, 'rotation', 'rotate.sh'), 0o755);
    t.git(['add', 'rotation/rotate.sh']);
    t.git(['commit', '-qm', 'rotation function']);
    const name = await secret(store);
    await store.rotateSecret({ SecretId: name, ClientRequestToken: T(10), RotationLambdaARN: './rotation/rotate.sh' });
    expect((await store.getSecretValue({ SecretId: name })).VersionId).toBe(T(10));
    expect(clean(t)).toBe('');
  });
});

describe('CancelRotateSecret (spec 3.15, 8.7 row 85)', () => {
  it('RotationEnabled=false; the function and rules stay; NextRotationDate goes (#85)', async () => {
    const r = rotator(t);
    const name = await secret(store);
    await store.rotateSecret({ SecretId: name, RotationLambdaARN: r.command, RotationRules: { AutomaticallyAfterDays: 10 } });
    const res = await store.cancelRotateSecret({ SecretId: name });
    expect(res).toEqual({ ARN: index(t, name).arn, Name: name });
    const d = await store.describeSecret({ SecretId: name });
    expect(d.RotationEnabled).toBe(false);
    expect(d.RotationLambdaARN).toBe(r.command);
    expect(d.RotationRules).toEqual({ AutomaticallyAfterDays: 10 });
    expect(d.NextRotationDate).toBeUndefined();
    expect(d.LastRotatedDate).toBeInstanceOf(Date);
    // A second cancel changes nothing and makes no commit.
    const before = head(t);
    await store.cancelRotateSecret({ SecretId: name });
    expect(head(t)).toBe(before);
  });

  it('returns the version an interrupted rotation left AWSPENDING on and leaves the labels alone (3.15)', async () => {
    const r = rotator(t);
    r.set('fail-createSecret');
    const name = await secret(store);
    await expect(store.rotateSecret({ SecretId: name, ClientRequestToken: T(11), RotationLambdaARN: r.command })).rejects.toThrow(/createSecret/);
    const res = await store.cancelRotateSecret({ SecretId: name });
    expect(res.VersionId).toBe(T(11));
    expect(await stages(store, name)).toEqual({ [T(0)]: ['AWSCURRENT'], [T(11)]: ['AWSPENDING'] });
    // The caller cleans up as AWS says; then a new rotation can start, and drops the label-less placeholder.
    await store.updateSecretVersionStage({ SecretId: name, VersionStage: 'AWSPENDING', RemoveFromVersionId: T(11) });
    r.set('fail-createSecret', false);
    await store.rotateSecret({ SecretId: name, ClientRequestToken: T(12) });
    expect(index(t, name).placeholders).toBeUndefined();
    expect((await store.getSecretValue({ SecretId: name })).VersionId).toBe(T(12));
  });

  it('without a rotation function ever configured: InvalidRequestException (3.15, moto)', async () => {
    const name = await secret(store);
    await expect(store.cancelRotateSecret({ SecretId: name })).rejects.toMatchObject({ name: 'InvalidRequestException' });
  });
});

describe('AWSPENDING placeholders in the other operations (spec 2.8, 3.2 step 3, 3.3, 3.5, 3.7)', () => {
  let name: string;
  beforeAll(async () => {
    const r = rotator(t);
    r.set('fail-createSecret');
    name = await secret(store);
    await store.rotateSecret({ SecretId: name, ClientRequestToken: T(20), RotationLambdaARN: r.command }).catch(() => undefined);
  });

  it('the index holds the token as a placeholder: no version entry, no sealed file', () => {
    const i = index(t, name);
    expect(Object.keys(i.placeholders ?? {})).toEqual([T(20)]);
    expect(i.versions[T(20)]).toBeUndefined();
    expect(existsSync(join(t.dir, versionPath(name, T(20))))).toBe(false);
    expect(clean(t)).toBe('');
  });

  it('GetSecretValue by VersionId, by VersionStage, or both: ResourceNotFoundException (3.3 last row, #83)', async () => {
    await expect(store.getSecretValue({ SecretId: name, VersionId: T(20) })).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
      message: `Secrets Manager can't find the specified secret value for VersionId: ${T(20)}`,
    });
    await expect(store.getSecretValue({ SecretId: name, VersionStage: 'AWSPENDING' })).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
      message: "Secrets Manager can't find the specified secret value for staging label: AWSPENDING",
    });
    await expect(store.getSecretValue({ SecretId: name, VersionId: T(20), VersionStage: 'AWSPENDING' })).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
    });
    const cli = t.cli(['get-secret-value', '--secret-id', name, '--version-id', T(20)]);
    expect(cli.status).toBe(254);
    expect(cli.stderr).toContain('(ResourceNotFoundException)');
  });

  it('ListSecretVersionIds leaves it out, with IncludeDeprecated too (3.7)', async () => {
    for (const IncludeDeprecated of [false, true]) {
      const listed = await store.listSecretVersionIds({ SecretId: name, IncludeDeprecated });
      expect(listed.Versions.map((v) => v.VersionId)).toEqual([T(0)]);
    }
  });

  it('DescribeSecret shows it in VersionIdsToStages (3.5)', async () => {
    expect(await stages(store, name)).toEqual({ [T(0)]: ['AWSCURRENT'], [T(20)]: ['AWSPENDING'] });
  });

  it('pruning ignores it: `secretstore prune` keeps the placeholder and a valid index (2.7)', () => {
    const r = t.cli(['prune', '--secret-id', name]);
    expect(r.status).toBe(0);
    expect(Object.keys(index(t, name).placeholders ?? {})).toEqual([T(20)]);
  });

  it('PutSecretValue with its token fills it: a sealed file, a version entry, its labels kept (2.8, 3.2 step 3)', async () => {
    const put = await store.putSecretValue({ SecretId: name, ClientRequestToken: T(20), SecretString: 'filled', VersionStages: ['AWSPENDING', 'extra'] });
    expect(put).toMatchObject({ VersionId: T(20), VersionStages: ['AWSPENDING', 'extra'] });
    const i = index(t, name);
    expect(i.placeholders).toBeUndefined();
    expect(i.versions[T(20)]).toBeDefined();
    expect(existsSync(join(t.dir, versionPath(name, T(20))))).toBe(true);
    expect((await store.getSecretValue({ SecretId: name, VersionStage: 'AWSPENDING' })).SecretString).toBe('filled');
    expect((await store.getSecretValue({ SecretId: name })).SecretString).toBe('v0');
    const log = t.git(['log', '-1', '--format=%B']);
    expect(log).toContain('fills the AWSPENDING placeholder');
    expect(clean(t)).toBe('');
    // Once filled it is an ordinary version: same value replays, another value is a conflict.
    await expect(store.putSecretValue({ SecretId: name, ClientRequestToken: T(20), SecretString: 'filled' })).resolves.toMatchObject({ VersionId: T(20) });
    await expect(store.putSecretValue({ SecretId: name, ClientRequestToken: T(20), SecretString: 'other' })).rejects.toMatchObject({
      name: 'ResourceExistsException',
    });
  });

  it('a fill without VersionStages makes it AWSCURRENT and keeps AWSPENDING (4.2)', async () => {
    const r = rotator(t);
    r.set('fail-createSecret');
    const other = await secret(store);
    await store.rotateSecret({ SecretId: other, ClientRequestToken: T(21), RotationLambdaARN: r.command }).catch(() => undefined);
    const put = await store.putSecretValue({ SecretId: other, ClientRequestToken: T(21), SecretString: 'new' });
    expect(put.VersionStages).toEqual(['AWSCURRENT', 'AWSPENDING']);
    expect(await stages(store, other)).toEqual({ [T(0)]: ['AWSPREVIOUS'], [T(21)]: ['AWSCURRENT', 'AWSPENDING'] });
  });

  it('a put that takes AWSPENDING away from a placeholder drops the placeholder (2.8)', async () => {
    const r = rotator(t);
    r.set('fail-createSecret');
    const other = await secret(store);
    await store.rotateSecret({ SecretId: other, ClientRequestToken: T(22), RotationLambdaARN: r.command }).catch(() => undefined);
    await store.putSecretValue({ SecretId: other, ClientRequestToken: T(23), SecretString: 'manual', VersionStages: ['AWSPENDING'] });
    expect(index(t, other).placeholders).toBeUndefined();
    expect(await stages(store, other)).toEqual({ [T(0)]: ['AWSCURRENT'], [T(23)]: ['AWSPENDING'] });
  });

  it('a RotationToken on a put is checked for form only (3.15 RotationToken)', async () => {
    const other = await secret(store);
    await expect(store.putSecretValue({ SecretId: other, SecretString: 'x', RotationToken: 'short' })).rejects.toMatchObject({ name: 'ValidationException' });
    await expect(store.putSecretValue({ SecretId: other, SecretString: 'x', RotationToken: `${'a'.repeat(36)}!` })).rejects.toMatchObject({
      name: 'ValidationException',
    });
    await expect(store.putSecretValue({ SecretId: other, SecretString: 'x', RotationToken: T(99) })).resolves.toBeDefined();
  });

  it('a put that makes a new AWSCURRENT counts as a rotation for NextRotationDate (3.2 step 7, 3.15 step 8)', async () => {
    const r = rotator(t);
    const other = await secret(store);
    await store.rotateSecret({ SecretId: other, RotationLambdaARN: r.command, RotationRules: { AutomaticallyAfterDays: 5 }, RotateImmediately: false });
    const later = new Date(Date.now() + 3 * DAY);
    const s2 = await t.open({ now: () => later });
    await s2.putSecretValue({ SecretId: other, SecretString: 'manual' });
    expect(index(t, other).rotation?.nextRotationDate).toBe(new Date(later.getTime() + 5 * DAY).toISOString());
    // A put that does not move AWSCURRENT does not.
    await (await t.open({ now: () => new Date(later.getTime() + DAY) })).putSecretValue({ SecretId: other, SecretString: 'p', VersionStages: ['x'] });
    expect(index(t, other).rotation?.nextRotationDate).toBe(new Date(later.getTime() + 5 * DAY).toISOString());
  });
});

describe('secretstore rotate-due', () => {
  let d: TestStore;
  let ds: Store;
  beforeAll(async () => {
    d = makeStore();
    ds = await d.open();
  });
  afterAll(() => d.cleanup());

  it('rotates only secrets whose rotation is enabled and due, reports failures, and retries an unfinished one with its token', async () => {
    const old = new Date(Date.now() - 3 * DAY);
    const past = await d.open({ now: () => old });
    const [ra, rb, rc, rd] = [rotator(d), rotator(d), rotator(d), rotator(d)];
    for (const n of ['due-a', 'due-b', 'due-c', 'due-d']) await past.createSecret({ Name: n, SecretString: 'v0', ClientRequestToken: T(0) });
    // A: value 3 days old, rotate every day: due. B: every 30 days: not due. C: due but cancelled. D: due, failing.
    const configure = (name: string, command: string, days: number) =>
      d.cli(['rotate-secret', '--secret-id', name, '--rotation-lambda-arn', command, '--rotation-rules', `AutomaticallyAfterDays=${days}`, '--no-rotate-immediately']);
    expect(configure('due-a', ra.command, 1).status).toBe(0);
    expect(configure('due-b', rb.command, 30).status).toBe(0);
    expect(configure('due-c', rc.command, 1).status).toBe(0);
    expect(configure('due-d', rd.command, 1).status).toBe(0);
    expect(d.cli(['cancel-rotate-secret', '--secret-id', 'due-c']).status).toBe(0);
    rd.set('fail-createSecret');

    const dry = d.cli(['rotate-due', '--dry-run']);
    expect(dry.status).toBe(0);
    expect(dry.json<{ Due: { Name: string }[] }>().Due.map((x) => x.Name)).toEqual(['due-a', 'due-d']);

    const run = d.cli(['rotate-due']);
    expect(run.status).toBe(254);
    const out = run.json<{ Rotated: { Name: string; VersionId: string }[]; Failed: { Name: string; ErrorCode: string; Message: string }[] }>();
    expect(out.Rotated.map((x) => x.Name)).toEqual(['due-a']);
    expect(out.Failed).toEqual([{ ARN: index(d, 'due-d').arn, Name: 'due-d', ErrorCode: 'InvalidRequestException', Message: expect.stringContaining('createSecret') }]);
    expect(run.stderr).toContain('1 of 2 due rotations failed: due-d');
    expect((await ds.getSecretValue({ SecretId: 'due-a' })).VersionId).toBe(out.Rotated[0]!.VersionId);
    for (const n of ['due-b', 'due-c', 'due-d']) expect((await ds.getSecretValue({ SecretId: n })).VersionId).toBe(T(0));
    expect(rb.lines('events.log').map((l) => JSON.parse(l).Step)).toEqual(['testSecret']);
    expect(rc.lines('events.log').map((l) => JSON.parse(l).Step)).toEqual(['testSecret']);
    expect(d.git(['status', '--porcelain'])).toBe('');

    // D is retried with the token its failed rotation reserved; A is no longer due.
    const pending = (await ds.describeSecret({ SecretId: 'due-d' })).VersionIdsToStages!;
    const token = Object.keys(pending).find((id) => pending[id]!.includes('AWSPENDING'))!;
    rd.set('fail-createSecret', false);
    const again = d.cli(['rotate-due']);
    expect(again.status).toBe(0);
    expect(again.json()).toEqual({ Rotated: [{ ARN: index(d, 'due-d').arn, Name: 'due-d', VersionId: token }], Failed: [] });
    expect((await ds.getSecretValue({ SecretId: 'due-d' })).VersionId).toBe(token);

    // With the clock two days on, A (every day) is due again and B (every 30 days) still is not.
    const moved = await d.open({ now: () => new Date(Date.now() + 2 * DAY) });
    const later = await rotateDue(moved.client);
    expect(later.Rotated.map((x) => x.Name).sort()).toEqual(['due-a', 'due-d']);
    expect(later.Failed).toEqual([]);
    expect((await ds.getSecretValue({ SecretId: 'due-b' })).VersionId).toBe(T(0));
    expect(d.git(['status', '--porcelain'])).toBe('');
  });
});
