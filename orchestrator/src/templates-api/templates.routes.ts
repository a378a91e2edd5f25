// GET /templates: the loaded stack templates and their plans, read-only.
import type { FastifyPluginAsync } from 'fastify';
import type { LoadedTemplate } from '../stacks/template-loader.js';
import { templateView } from './templates.view.js';

const limits = {
  type: 'object',
  required: ['memory', 'cpus', 'pids'],
  properties: {
    memory: { type: 'string', description: 'as in the template, e.g. 256m' },
    memoryBytes: { type: 'integer' },
    cpus: { type: 'number' },
    pids: { type: 'integer' }
  }
} as const;

const templateSchema = {
  $id: 'Template',
  type: 'object',
  required: ['name', 'description', 'version', 'route', 'plans', 'services'],
  properties: {
    name: { type: 'string' },
    description: { type: 'string' },
    version: { type: 'integer' },
    route: { type: 'object', required: ['service', 'port'], properties: { service: { type: 'string' }, port: { type: 'integer' } } },
    defaultPlan: { type: 'string' },
    plans: {
      type: 'object',
      additionalProperties: {
        type: 'object',
        required: ['description', 'services'],
        properties: {
          description: { type: 'string' },
          storageQuotaBytes: { type: 'integer', description: 'the most a team on this plan may store' },
          services: { type: 'object', additionalProperties: limits }
        }
      }
    },
    services: {
      type: 'array',
      items: { type: 'object', required: ['name', 'image'], properties: { name: { type: 'string' }, image: { type: 'string' } } }
    }
  }
} as const;

export interface TemplatesRoutesOptions {
  templates: Map<string, LoadedTemplate>;
  /** Values for ${IMAGE_APP}, ${IMAGE_DB}, ${IMAGE_STORAGE}, ${APP_VERSION}. */
  images: Record<string, string>;
}

export const templatesRoutes: FastifyPluginAsync<TemplatesRoutesOptions> = async (app, { templates, images }) => {
  app.addSchema(templateSchema);
  app.get('/templates', {
    config: { scope: 'read' },
    schema: {
      tags: ['templates'],
      summary: 'Stack templates and what each plan gives',
      response: { 200: { type: 'object', required: ['templates'], properties: { templates: { type: 'array', items: { $ref: 'Template#' } } } } }
    }
  }, async () => ({ templates: [...templates.values()].map((t) => templateView(t, images)) }));
};
