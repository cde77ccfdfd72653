// The typed client now lives in the @parley/client package (packages/client); this module
// keeps the old import path working.
export * from '../../packages/client/src/index.ts';
