import type { RouteModule } from '../deps.js';
import { fileHistoryRoutes } from './routes.js';
import { timeRoutes } from './timeRoutes.js';

/** History of api-v1.md: versions and restore, trash and undelete, the tree at a moment, rewind. */
export const historyRoutes: RouteModule = async (app, deps) => {
  await fileHistoryRoutes(app, deps);
  await timeRoutes(app, deps);
};
