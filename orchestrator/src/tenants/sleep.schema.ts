// A team's own sleep times (PUT /tenants/:slug/sleep), over its plan's
// (x-berth.plans.<plan>.sleep). A leaf: the route, the CLI and the plan
// reader (stacks/plan-sleep.ts) share the one duration rule.
import type { FromSchema } from 'json-schema-to-ts';

/** 1 to 999999 seconds, minutes, hours or days; or the word never. */
export const SLEEP_DURATION = '^([1-9][0-9]{0,5})([smhd])$';
const duration = {
  type: 'string',
  maxLength: 12,
  pattern: `${SLEEP_DURATION}|^never$`,
  description: 'a duration such as 30s, 15m, 12h or 7d, or never'
} as const;

/** Each field absent: the plan's value. */
export const sleepSettingSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    pause: { ...duration, description: 'idle this long, the team is frozen (docker pause: memory kept, no CPU); 30s, 15m, 12h, 7d or never' },
    stop: { ...duration, description: 'idle this long, the team is stopped (no memory); 30s, 15m, 12h, 7d or never' }
  }
} as const;

/** A plan's sleep times, Berth's defaults (15m, 12h) filled in where the plan states none. */
export const planSleepSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['pause', 'stop'],
  properties: {
    pause: { type: 'string', description: 'idle this long, a team on this plan is frozen' },
    stop: { type: 'string', description: 'idle this long, a team on this plan is stopped' }
  }
} as const;

/**
 * What the team view shows: the times in force and where each came from
 * (a field in `override` is the team's own; otherwise it is `plan`'s), so an
 * operator sees what clearing the override would give without another call.
 */
export const sleepViewSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['pause', 'stop', 'plan'],
  properties: {
    pause: { type: 'string' },
    stop: { type: 'string' },
    override: sleepSettingSchema,
    plan: { ...planSleepSchema, description: "its plan's times, what a field without an override follows" }
  }
} as const;

export const sleepSettingBody = {
  ...sleepSettingSchema,
  description: 'the team\'s own sleep times; a field left out follows its plan (an empty object clears the override)'
} as const;

export const sleepActionQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    stop: { type: 'boolean', default: false, description: 'sleep: stop the team (no memory) rather than freeze it' }
  }
} as const;

export type SleepSetting = FromSchema<typeof sleepSettingSchema>;
export type SleepView = FromSchema<typeof sleepViewSchema>;
export type SleepActionQuery = FromSchema<typeof sleepActionQuery, { keepDefaultedPropertiesOptional: true }>;
