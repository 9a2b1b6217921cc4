// A worker thread does not inherit the TypeScript loader of the thread that starts it (tsx's
// hooks, vitest's transform): run from source, the describe worker starts here, registers tsx's
// loader for itself, then loads the worker proper.
import { register } from 'tsx/esm/api';

register();
await import('./describeWorker.ts');
