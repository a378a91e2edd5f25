import type { ServerInit } from '@sveltejs/kit';
import { config } from '$lib/server/config';
import { closeDb } from '$lib/server/db';
import { ensureBucket } from '$lib/server/storage';

const RETRY_MS = 1000;

// The bucket is made at start. Storage may come up after the app (or be
// restarted under it), so a failed attempt is retried in the background and
// /healthz reports "storage" until it succeeds, instead of the app exiting.
async function ensureBucketEventually(): Promise<void> {
  for (;;) {
    try {
      await ensureBucket();
      return;
    } catch (err) {
      console.error(JSON.stringify({ level: 'warn', msg: 'bucket not ready, retrying', error: (err as Error).message }));
      await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
    }
  }
}

export const init: ServerInit = async () => {
  config(); // fail at start on bad configuration
  void ensureBucketEventually();
};

// adapter-node stops accepting connections on SIGTERM, lets in-flight requests
// finish, then emits this event: only then is it safe to close the database.
process.on('sveltekit:shutdown', async () => {
  await closeDb();
});
