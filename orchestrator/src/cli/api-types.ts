// The API types the CLI reads and sends, from the contract. Only type imports
// and the contract's constants: the CLI must not load the server's code
// (fastify, mongodb, dockerode) to list tenants.
export { SCOPES, bytesInWords } from '../contract/index.js';
export type {
  Scope,
  TenantView,
  TenantList,
  OwnerLinkReply as OwnerLink,
  TokenList,
  TokenCreated,
  VersionList,
  CapacityView,
  MeasureRequest,
  Measurement,
  MeasurementRun,
  MeasurementList,
  UpgradeJobView as JobView,
  UpgradeJobList as JobList,
  UpgradePreview as Preview,
  UpgradeRequest as JobBody
} from '../contract/index.js';
import type { UpgradeRequest } from '../contract/index.js';

/** The part of an upgrade request that picks its tenants. */
export type Selection = Pick<UpgradeRequest, 'all' | 'tenants' | 'filter'>;
