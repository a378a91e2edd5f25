// The one typed configuration object of the SvelteKit side; see read-config.js for why it is JavaScript.
import { loadConfig, type ConsoleConfig } from './read-config.js';

export type { ConsoleConfig };
export const config: ConsoleConfig = loadConfig();
