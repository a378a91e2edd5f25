import adapter from '@sveltejs/adapter-node';
import { vitePreprocess } from '@sveltejs/vite-plugin-svelte';

/** @type {import('@sveltejs/kit').Config} */
export default {
  preprocess: vitePreprocess(),
  // Everything the server needs is a devDependency, so the adapter bundles it
  // into build/: the image then needs only build/ and a Node runtime, no npm.
  kit: { adapter: adapter({ out: 'build', envPrefix: '' }) }
};
