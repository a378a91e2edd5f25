import { json } from '@sveltejs/kit';
import { config } from '$lib/server/config';
import type { RequestHandler } from './$types';

export const GET: RequestHandler = () => json({ name: 'berth-tenant-app', version: config().version });
