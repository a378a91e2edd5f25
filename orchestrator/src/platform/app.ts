// Builds the DevOps API as a fastify instance: the server boots it, the tests
// build the same thing. Order: shared schemas and error handling, what every
// route documents by its shape, OpenAPI, WebSocket, auth and audit hooks, one
// plugin per resource, then 405 for the methods a path does not have.
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import swagger from '@fastify/swagger';
import websocket from '@fastify/websocket';
import type { Db } from 'mongodb';
import { auditPlugin } from '../audit/audit.plugin.js';
import type { AuditRepository } from '../audit/audit.repository.js';
import { auditRoutes } from '../audit/audit.routes.js';
import { authPlugin } from '../auth/auth.plugin.js';
import type { TokensService } from '../auth/tokens.service.js';
import { tokensRoutes } from '../auth/tokens.routes.js';
import type { EventBus } from '../events/event-bus.js';
import { eventsRoutes } from '../events/events.routes.js';
import { mailsRoutes } from '../onboarding/mails.routes.js';
import type { OnboardingModule } from '../onboarding/onboarding.module.js';
import { onboardingRoutes } from '../onboarding/onboarding.routes.js';
import { quotaRoutes } from '../onboarding/quota.routes.js';
import type { OnboardingConfig } from '../config/onboarding.config.js';
import type { OperatorsModule } from '../operators/operators.module.js';
import { operatorsRoutes } from '../operators/operators.routes.js';
import type { LoadedTemplate } from '../stacks/template.schema.js';
import type { StatsCollector } from '../stats/stats.collector.js';
import { statsRoutes } from '../stats/stats.routes.js';
import { templatesRoutes } from '../templates-api/templates.routes.js';
import { capacityRoutes } from '../capacity-api/capacity.routes.js';
import type { CapacityViewDeps } from '../capacity-api/capacity.view.js';
import { measurementsRoutes } from '../capacity-measure/measurements.routes.js';
import type { MeasurementRunner } from '../capacity-measure/measurement-runner.js';
import type { TerminalService } from '../terminal/terminal.service.js';
import { terminalRoutes } from '../terminal/terminal.routes.js';
import type { TenantLogs } from '../tenants/tenant-logs.js';
import type { TenantViews } from '../tenants/tenant-views.js';
import type { TenantsService } from '../tenants/tenants.service.js';
import { tenantsRoutes } from '../tenants/tenants.routes.js';
import type { UpgradesService } from '../upgrades/upgrades.service.js';
import { upgradesRoutes } from '../upgrades/upgrades.routes.js';
import { backupsRoutes } from '../backups/backups.routes.js';
import type { BackupService } from '../backups/backups.service.js';
import { collectMethods } from '../api/allowed-methods.js';
import { API_DESCRIPTION, BODY_LIMIT, installConventions, serverOptions } from '../api/conventions.js';
import type { Metrics } from '../api/metrics.js';

export interface AppDeps {
  db: Db;
  tenants: TenantsService;
  tenantViews: TenantViews;
  tenantLogs: TenantLogs;
  events: EventBus;
  tokens: TokensService;
  audit: AuditRepository;
  metrics: Metrics;
  version: string;
  /** Console operators: enrolment, sign-in, sessions. */
  operators: OperatorsModule;
  terminal: TerminalService;
  stats: StatsCollector;
  templates: Map<string, LoadedTemplate>;
  /** Values for the image variables of templates, for the templates page. */
  templateImages: Record<string, string>;
  /** Bulk upgrades, and the image repository whose tags are the app versions. */
  upgrades: UpgradesService;
  appRepo: string;
  /** The host's headroom (GET /capacity). */
  capacity: CapacityViewDeps;
  /** Capacity measurements (POST /capacity/measurements and their reports). */
  measurements: MeasurementRunner;
  /** Teams' backups and restores. */
  backups: BackupService;
  /** The public sign-up wizard's API and the captured development mail (absent: no such routes). */
  onboarding?: { module: OnboardingModule; config: OnboardingConfig };
}

/** Sees a reply's payload as the handler made it, before the serializer drops what the schema does not name. */
export type BeforeSerialize = (request: FastifyRequest, reply: FastifyReply, payload: unknown) => void;

export async function buildApp(deps: AppDeps, options: FastifyServerOptions = {}, hooks: { beforeSerialize?: BeforeSerialize } = {}): Promise<FastifyInstance> {
  const app = Fastify({ ...serverOptions, ...options });
  const { beforeSerialize } = hooks;
  if (beforeSerialize) app.addHook('preSerialization', async (request, reply, payload) => (beforeSerialize(request, reply, payload), payload));
  installConventions(app);
  const methods = collectMethods(app);
  await app.register(swagger, {
    openapi: {
      info: { title: 'Berth DevOps API', version: deps.version, description: API_DESCRIPTION },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'an API token (berth_<id>_<secret>) or a console session (bsess_…)' },
          signup: { type: 'apiKey', in: 'header', name: 'X-Berth-Signup', description: 'a sign-up\'s own token, from POST /api/v1/onboarding/signups' }
        }
      },
      security: [{ bearer: [] }]
    },
    // Shared schemas keep their own names (Error, Tenant, …) in components.
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) }
  });
  await app.register(websocket, { options: { maxPayload: BODY_LIMIT } });
  await app.register(authPlugin, { tokens: deps.tokens, sessions: deps.operators.sessions });
  await app.register(auditPlugin, { audit: deps.audit });

  app.get('/healthz', { config: { scope: 'public' }, schema: { hide: true } }, async (_req, reply) => {
    try {
      await deps.db.command({ ping: 1 });
      return { status: 'ok', version: deps.version };
    } catch (err) {
      return reply.status(503).send({ status: 'fail', message: `platform database: ${(err as Error).message}` });
    }
  });
  app.get('/metrics', { config: { scope: 'public' }, schema: { hide: true } }, async (_req, reply) =>
    reply.type('text/plain; version=0.0.4').send(await deps.metrics.render())
  );

  await app.register(
    async (api) => {
      api.get('/openapi.json', { config: { scope: 'public' }, schema: { hide: true } }, async () => app.swagger());
      await api.register(tenantsRoutes, { tenants: deps.tenants, views: deps.tenantViews, logs: deps.tenantLogs, events: deps.events, templates: deps.templates });
      await api.register(eventsRoutes, { events: deps.events });
      await api.register(tokensRoutes, { tokens: deps.tokens });
      await api.register(auditRoutes, { audit: deps.audit });
      await api.register(operatorsRoutes, { operators: deps.operators.operators, signIn: deps.operators.signIn, signInLimit: deps.operators.signInLimit });
      await api.register(terminalRoutes, { terminal: deps.terminal });
      await api.register(statsRoutes, { stats: deps.stats });
      await api.register(templatesRoutes, { templates: deps.templates, images: deps.templateImages });
      await api.register(capacityRoutes, deps.capacity);
      await api.register(measurementsRoutes, { runner: deps.measurements });
      await api.register(upgradesRoutes, { upgrades: deps.upgrades, appRepo: deps.appRepo });
      await api.register(backupsRoutes, { backups: deps.backups });
      if (deps.onboarding) {
        const { module: onboarding, config: onboardingConfig } = deps.onboarding;
        await api.register(onboardingRoutes, { service: onboarding.service, captcha: onboarding.captcha, events: deps.events, config: onboardingConfig });
        await api.register(mailsRoutes, { mails: onboarding.mails, sink: onboarding.sink });
        await api.register(quotaRoutes, { service: onboarding.service });
      }
    },
    { prefix: '/api/v1' }
  );
  methods.answerOthers();
  return app;
}
