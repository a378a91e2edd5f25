import adapter from '@sveltejs/adapter-node';
import { vitePreprocess } from '@sveltejs/vite-plugin-svelte';

/** @type {import('@sveltejs/kit').Config} */
export default {
  preprocess: vitePreprocess(),
  kit: {
    adapter: adapter({ out: 'build' }),
    // The API contract (schemas, types, phases, slug rule, error codes), from
    // the orchestrator's one entry point: nothing here copies it.
    alias: { $contract: '../orchestrator/src/contract/index.ts' }
  }
};
