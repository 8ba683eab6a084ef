/**
 * Rotation schedules (spec 3.15): `AutomaticallyAfterDays` and `rate(N days|hours)` are intervals that
 * count from the last rotation; `cron(...)` names absolute times (UTC), computed with aws-cron-parser,
 * which reads AWS's six-field form including `?`, `L`, `W` and `#`.
 */
import awsCronParser from 'aws-cron-parser';
import { InvalidParameterException } from '../errors.js';
import type { RotationRules } from '../model/store.js';

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

type ParsedCron = ReturnType<typeof awsCronParser.parse>;

export type Schedule = { readonly kind: 'interval'; readonly ms: number } | { readonly kind: 'cron'; readonly cron: ParsedCron };

function badSchedule(expression: string, why: string): never {
  throw new InvalidParameterException(`Invalid ScheduleExpression '${expression}': ${why}`);
}

/** aws-cron-parser trusts its input to be valid AWS cron, so the shape is checked here first. */
function parseCron(expression: string, body: string): ParsedCron {
  const fields = body.trim().split(/\s+/);
  if (fields.length !== 6) badSchedule(expression, 'cron() needs 6 fields: minutes hours day-of-month month day-of-week year');
  const [minutes, hours, dom, month, dow, year] = fields as [string, string, string, string, string, string];
  if ((dom === '?') === (dow === '?')) badSchedule(expression, 'exactly one of day-of-month and day-of-week must be ?');
  if ([minutes, hours, month, year].includes('?')) badSchedule(expression, '? is only allowed for day-of-month or day-of-week');
  if (fields.some((f) => !/^[0-9A-Za-z*?,\-/#]+$/.test(f))) badSchedule(expression, 'unexpected characters');
  try {
    return awsCronParser.parse(fields.join(' '));
  } catch (err) {
    return badSchedule(expression, (err as Error).message);
  }
}

/** The schedule of validated rules; undefined when there is none. */
export function scheduleOf(rules: RotationRules | undefined): Schedule | undefined {
  if (rules?.AutomaticallyAfterDays !== undefined) return { kind: 'interval', ms: rules.AutomaticallyAfterDays * DAY_MS };
  const expression = rules?.ScheduleExpression;
  if (expression === undefined) return undefined;
  const rate = /^rate\(\s*(\d+)\s+(hours?|days?)\s*\)$/.exec(expression);
  if (rate) {
    const n = Number(rate[1]);
    const hours = rate[2]!.startsWith('hour');
    if (n < 1 || (rate[2]!.endsWith('s') ? n === 1 : n !== 1)) badSchedule(expression, `write rate(1 ${hours ? 'hour' : 'day'}) or rate(N ${hours ? 'hours' : 'days'})`);
    if (hours && n < 4) badSchedule(expression, 'a secret can be rotated at most every four hours');
    if (!hours && n > 1000) badSchedule(expression, 'at most 1000 days');
    return { kind: 'interval', ms: n * (hours ? HOUR_MS : DAY_MS) };
  }
  const cron = /^cron\((.*)\)$/.exec(expression);
  if (cron) return { kind: 'cron', cron: parseCron(expression, cron[1]!) };
  return badSchedule(expression, 'write rate(N days), rate(N hours) or cron(minutes hours day-of-month month day-of-week year)');
}

/**
 * When the next rotation is due. An interval counts from `base` (the last rotation, or the creation of
 * the AWSCURRENT value: a put counts as a rotation, spec 3.15 step 8); a cron schedule is the next time
 * it names after `now`. Undefined without a schedule.
 */
export function nextRotationDate(rules: RotationRules | undefined, base: Date, now: Date): Date | undefined {
  const schedule = scheduleOf(rules);
  if (schedule === undefined) return undefined;
  if (schedule.kind === 'interval') return new Date(base.getTime() + schedule.ms);
  return awsCronParser.next(schedule.cron, now) ?? badSchedule(rules!.ScheduleExpression!, 'it names no future time');
}
