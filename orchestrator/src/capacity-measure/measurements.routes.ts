// Capacity measurements: start one (it makes load teams, loads them through
// nginx, predicts, removes them), follow it, read its report, cancel it.
// Progress: capacity.measurement events on the event stream, and the report
// itself, saved after every phase.
import type { FastifyPluginAsyncJsonSchemaToTs } from '@fastify/type-provider-json-schema-to-ts';
import { errorResponses } from '../api/schemas.js';
import { measureRequestSchema, measurementListSchema, measurementSchema } from './measurement.schema.js';
import type { MeasurementRunner } from './measurement-runner.js';

type Refs = { references: [typeof measurementSchema] };
type Provider = { ValidatorSchemaOptions: Refs; SerializerSchemaOptions: Refs };

const idParam = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', minLength: 1, maxLength: 64, description: 'the measurement id (a UUID)' } }
} as const;

export const measurementsRoutes: FastifyPluginAsyncJsonSchemaToTs<{ Options: { runner: MeasurementRunner } } & Provider> = async (app, { runner }) => {
  app.addSchema(measurementSchema);
  const tags = ['capacity'];
  const report = { $ref: 'CapacityMeasurement#' } as const;

  app.post('/capacity/measurements', {
    config: { scope: 'admin' },
    schema: {
      tags,
      summary: 'Measure this host: the team-load scenario on N load teams for the duration (and, with check, at the predicted count and 1.25 times it); the teams are removed after',
      body: measureRequestSchema,
      response: { 202: report, ...errorResponses('MEASUREMENT_RUNNING', 'MEASUREMENT_UNSUPPORTED') }
    }
  }, async (req, reply) => reply.status(202).send(await runner.start(req.body)));

  app.get('/capacity/measurements', {
    config: { scope: 'read' },
    schema: { tags, summary: 'The last 20 measurements, newest first', response: { 200: measurementListSchema } }
  }, async () => ({
    measurements: (await runner.list(20)).map((m) => ({ id: m.id, state: m.state, phase: m.phase, startedAt: m.startedAt, endedAt: m.endedAt, teams: m.request.teams, awake: m.prediction?.awake ?? null, registered: m.prediction?.registered ?? null }))
  }));

  app.get('/capacity/measurements/:id', {
    config: { scope: 'read' },
    schema: { tags, summary: 'A measurement\'s report: its runs (host samples, latencies, each team), the prediction and the check', params: idParam, response: { 200: report, ...errorResponses('MEASUREMENT_NOT_FOUND') } }
  }, async (req) => runner.get(req.params.id));

  app.post('/capacity/measurements/:id/cancel', {
    config: { scope: 'admin' },
    schema: { tags, summary: 'Stop a running measurement: its load ends at once and its teams are removed after (the report says cancelled once they are)', params: idParam, response: { 200: report, ...errorResponses('MEASUREMENT_NOT_FOUND') } }
  }, async (req) => runner.cancel(req.params.id));
};
