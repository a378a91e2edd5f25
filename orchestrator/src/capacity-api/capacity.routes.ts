// GET /capacity: the host's headroom now and how many more teams of each plan fit.
import type { FastifyPluginAsyncJsonSchemaToTs } from '@fastify/type-provider-json-schema-to-ts';
import { capacitySchema } from './capacity.schema.js';
import { capacityView, type CapacityViewDeps } from './capacity.view.js';

export const capacityRoutes: FastifyPluginAsyncJsonSchemaToTs<{ Options: CapacityViewDeps }> = async (app, deps) => {
  app.get('/capacity', {
    config: { scope: 'read' },
    schema: {
      tags: ['capacity'],
      summary: 'The host\'s headroom now (memory, disk, CPU, reserves, starts under way) and how many more teams of each plan admission would start',
      response: { 200: capacitySchema }
    }
  }, () => capacityView(deps));
};
