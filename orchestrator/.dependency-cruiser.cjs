// Imports point down the layers, never up (DESIGN.md "Folders"; STYLE.md 12): a module may import
// its own layer and the layers below it. Layers, top to bottom:
//   1 entry   platform/ (wiring and the fastify app), cli/, server.ts
//   2 feature upgrades/, onboarding/, operators/, auth/, audit/, terminal/, stats/, templates-api/, capacity-api/, capacity-measure/, backups/,
//             mail-relay/, reconcile/, health/ (the monitor), sleep/ (idle policy, wake on request)
//   3 tenants tenants/ (registry, commands, the one owner of operations)
//   4 engine  stacks/, proxy/, storage/, capacity/ (the host's room, admission)
//   5 base    runtime/ (the port, labels, probes), events/, db/, crypto/, config/
//   6 leaves  contract/ (slug rule, reserved names, error codes), api/ (the shared HTTP toolkit),
//             the root files but server.ts (errors.ts, log.ts, formats.ts, names.ts), and every
//             *.schema.ts wherever it lives (route schemas and the literal lists the contract
//             re-exports: phases, job states); leaves import only leaves
// Type-only imports count too (tsPreCompilationDeps: true): a type is part of a module's
// interface, and a type pointing up is the first step of a value pointing up.
const SCHEMA = '\\.schema\\.ts$';
const L1 = '^src/(platform/|cli/|server\\.ts$)';
const L2 = '^src/(upgrades|onboarding|operators|auth|audit|terminal|stats|templates-api|capacity-api|capacity-measure|backups|mail-relay|reconcile|health|sleep)/';
const L3 = '^src/tenants/';
const L4 = '^src/(stacks|proxy|storage|capacity)/';
const L5 = '^src/(runtime|events|db|crypto|config)/';
// Every root file but server.ts (the entry) is a leaf.
const L6 = '^src/(contract/|api/|(?!server\\.ts$)[^/]+\\.ts$)';

const above = (...layers) => `(${layers.join('|')})`;

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'A module cycle: one of these modules belongs in a lower layer or a leaf.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'feature-imports-entry',
      severity: 'error',
      comment: 'A feature imports the wiring (platform/, cli/, server.ts): pass it in instead.',
      from: { path: L2, pathNot: SCHEMA },
      to: { path: L1, pathNot: SCHEMA },
    },
    {
      name: 'tenants-imports-higher',
      severity: 'error',
      comment: 'tenants/ imports a feature or the wiring: move the shared part down, or ask through a port.',
      from: { path: L3, pathNot: SCHEMA },
      to: { path: above(L1, L2), pathNot: SCHEMA },
    },
    {
      name: 'engine-imports-higher',
      severity: 'error',
      comment: 'stacks/, proxy/, storage/ or capacity/ imports tenants/, a feature or the wiring: move the shared part to a leaf.',
      from: { path: L4, pathNot: SCHEMA },
      to: { path: above(L1, L2, L3), pathNot: SCHEMA },
    },
    {
      name: 'base-imports-higher',
      severity: 'error',
      comment: 'runtime/, events/, db/, crypto/ or config/ imports the engine or above: move the shared part to a leaf.',
      from: { path: L5, pathNot: SCHEMA },
      to: { path: above(L1, L2, L3, L4), pathNot: SCHEMA },
    },
    {
      name: 'leaf-imports-higher',
      severity: 'error',
      comment: 'A leaf (contract/, api/, errors.ts, log.ts, formats.ts, a *.schema.ts) imports a non-leaf: leaves import only leaves.',
      from: { path: `(${L6}|${SCHEMA})` },
      to: { path: above(L1, L2, L3, L4, L5), pathNot: SCHEMA },
    },
    {
      name: 'module-outside-the-layers',
      severity: 'error',
      comment: 'A module in a folder no layer lists (a new src/<domain>/?): add the folder to its layer above.',
      from: { path: '^src/', pathNot: `(${L1}|${L2}|${L3}|${L4}|${L5}|${L6}|${SCHEMA})` },
      to: {},
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)node_modules/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
    },
  },
};
