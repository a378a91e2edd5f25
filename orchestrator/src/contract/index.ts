// The DevOps API's contract in one place, for the console and the CLI: route
// schemas, the types derived from them (json-schema-to-ts), the phase list,
// the slug rule and the error codes. Nothing here may import fastify, mongodb,
// dockerode or node: built-ins at run time (test/contract/contract.test.ts
// walks the imports), so a browser bundle can take it whole.
export { ErrorCodes, type ErrorCode } from './error-codes.js';
export { PHASES, OPERATION_KINDS, type Phase, type OperationKind } from '../tenants/tenants.schema.js';
export { SLUG_PATTERN, SLUG_SCHEMA_PATTERN, SLUG_RULE, slugProblem } from './slug.js';
export { RESERVED_SLUGS, RESERVED_PREFIX } from './reserved.js';
export { EMAIL_MAX, isEmail, bytesInWords } from '../formats.js';
export { errorSchema, type ErrorBody } from '../api/error.schema.js';

export * as tenants from '../tenants/tenants.schema.js';
export type {
  TenantView, TenantHealth, TenantList, TenantAccepted, TenantListQuery, CreateTenantBody, DeleteTenantQuery,
  TenantAction, LogsQuery, LogsReply, TenantEventsReply, OwnerLinkReply
} from '../tenants/tenants.schema.js';
export type { StorageView as TenantStorage } from '../storage/storage.schema.js';
export { SLEEP_DURATION } from '../tenants/sleep.schema.js';
export type { SleepSetting, SleepView } from '../tenants/sleep.schema.js';
export type { TenantStats } from '../stats/stats.schema.js';
export type { ActivityView as TenantActivity } from '../proxy/edge-activity.schema.js';
export type { BerthEvent } from '../events/event.schema.js';

export * as upgrades from '../upgrades/upgrades.schema.js';
export { JOB_STATES, TENANT_STATES, JOB_ACTIONS, type JobState, type TenantState, type JobAction } from '../upgrades/upgrades.schema.js';
export type {
  UpgradeJobView, UpgradeJobTenant, UpgradeCounts, UpgradeJobList, UpgradeRequest, RollbackBody, UpgradeListQuery,
  UpgradePreview, VersionList, AppVersion
} from '../upgrades/upgrades.schema.js';

export * as onboarding from '../onboarding/onboarding.schema.js';
export type {
  SignupView, ProgressEvent, SlugCheck, SlugQuery, CaptchaChallenge, StartSignupBody, StartSignupReply, VerifyBody, TeamBody,
  OnboardingQuota, CapturedMails, CapturedMailView, SignupMessage
} from '../onboarding/onboarding.schema.js';

export * as operators from '../operators/operators.schema.js';
export { OPERATOR_STATUSES, type OperatorStatus } from '../operators/operators.schema.js';
export type {
  OperatorView, OperatorBrief, OperatorReply, OperatorList, CreateOperatorBody, OperatorCreated, SetupStartBody, SetupStartReply, SetupFinishBody,
  LoginBody, LoginReply, MeReply
} from '../operators/operators.schema.js';

export * as tokens from '../auth/tokens.schema.js';
export { SCOPES } from '../auth/tokens.schema.js';
export type { TokenInfoView, TokenList, CreateTokenBody, TokenCreated } from '../auth/tokens.schema.js';
export type Scope = (typeof import('../auth/tokens.schema.js').SCOPES)[number];

export * as templates from '../templates-api/templates.schema.js';
export type { TemplateView, TemplateList } from '../templates-api/templates.schema.js';
export * as capacity from '../capacity-api/capacity.schema.js';
export type { CapacityView } from '../capacity-api/capacity.schema.js';
export * as measurements from '../capacity-measure/measurement.schema.js';
export type { MeasureRequest, Measurement, MeasurementRun, MeasurementList, MeasurementState } from '../capacity-measure/measurement.schema.js';
export * as audit from '../audit/audit.schema.js';
export type { AuditEntryView, AuditList } from '../audit/audit.schema.js';
export { tenantStatsSchema } from '../stats/stats.schema.js';
export { eventSchema } from '../events/event.schema.js';
export * as backups from '../backups/backups.schema.js';
export { BACKUP_STATES, BACKUP_REASONS, BACKUP_ID, type BackupState, type BackupReason } from '../backups/backups.schema.js';
export type { BackupView, BackupList, CreateBackupReply, RestoreBody, RestorePreview, RestoreReply, BackupOverview } from '../backups/backups.schema.js';
