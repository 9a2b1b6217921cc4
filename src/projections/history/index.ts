// The workspace at any moment, rebuilt from its log, and rewinds planned from it.
export { isLiveNode, TreeFold, type HistoricalNode, type HistoricalVersion } from './fold.js';
export { planRewind, RewindError, type RewindChange, type RewindCommand, type RewindPlan } from './rewind.js';
export { treeAt, treeThenAndNow, workspaceEvents, type HistoricalTree, type WorkspaceEvents } from './treeAt.js';
