// A team's real load (issue 14 item 1) lives with the product, which runs it
// for `berth capacity measure`: orchestrator/src/capacity/load/team-load.ts.
// Benches and tests reach it here under its first name.
export * from '../../orchestrator/src/capacity/load/team-load.js';
