import { json } from '@sveltejs/kit';
import { health } from '$lib/server/health';
import type { RequestHandler } from './$types';

export const GET: RequestHandler = async () => {
  const report = await health();
  if (report.status === 'ok') return json(report, { headers: { 'cache-control': 'no-store' } });
  const message = report.failed.map((name) => `${name}: ${report.checks[name].error}`).join('; ');
  return json({ ...report, message }, { status: 503, headers: { 'cache-control': 'no-store' } });
};
