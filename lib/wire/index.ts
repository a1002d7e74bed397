// The wire format for TypeScript: generated constants (gen.ts, from proto/wire.json) and the codec.
export * from './gen.js';
export * from './codec.js';
