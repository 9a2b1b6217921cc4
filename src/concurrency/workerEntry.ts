/**
 * The file a worker thread starts at, for the worker module `name` next to the module at `base`
 * (its import.meta.url). Run from source (tsx, vitest), a worker does not inherit the TypeScript
 * loader of the thread that starts it: it starts at `name.boot.mjs`, which registers tsx's loader
 * and then loads `name.ts`. Compiled, it starts at `name.js`.
 */
export const workerEntry = (base: string, name: string): URL => new URL(base.endsWith('.ts') ? `./${name}.boot.mjs` : `./${name}.js`, base);
