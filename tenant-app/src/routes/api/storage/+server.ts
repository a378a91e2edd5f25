import { json } from '@sveltejs/kit';
import { storageLedger } from '$lib/server/attachments/quota';
import { api } from '$lib/server/http/api';
import type { RequestHandler } from './$types';

/** The team's stored bytes (uploads in flight included) against its quota; null when it has none. */
export const GET: RequestHandler = api(async () => json({ storage: (await storageLedger()?.use()) ?? null }));
