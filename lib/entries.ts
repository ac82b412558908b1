// The whole package as one bundle (dist/atomik.cjs), whose namespaces the
// entry files re-export: one copy of every class for every entry, import
// and require alike.
export * as main from './index.js';
export * as serial from './serial/index.js';
export * as board from './board/index.js';
export * as replicate from './replicate/index.js';
export * as testing from './testing/index.js';
