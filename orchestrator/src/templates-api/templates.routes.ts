// GET /templates: the loaded stack templates and their plans, read-only.
import type { FastifyPluginAsyncJsonSchemaToTs } from '@fastify/type-provider-json-schema-to-ts';
import type { LoadedTemplate } from '../stacks/template.schema.js';
import * as S from './templates.schema.js';
import { templateView } from './templates.view.js';

export interface TemplatesRoutesOptions {
  templates: Map<string, LoadedTemplate>;
  /** Values for ${IMAGE_APP}, ${IMAGE_DB}, ${IMAGE_STORAGE}, ${APP_VERSION}. */
  images: Record<string, string>;
}

type Refs = { references: [typeof S.templateSchema] };
type Provider = { ValidatorSchemaOptions: Refs; SerializerSchemaOptions: Refs };

export const templatesRoutes: FastifyPluginAsyncJsonSchemaToTs<{ Options: TemplatesRoutesOptions } & Provider> = async (app, { templates, images }) => {
  app.addSchema(S.templateSchema);
  app.get('/templates', {
    config: { scope: 'read' },
    schema: {
      tags: ['templates'],
      summary: 'Stack templates and what each plan gives',
      response: { 200: S.templateList }
    }
  }, async () => ({ templates: [...templates.values()].map((t) => templateView(t, images)) }));
};
