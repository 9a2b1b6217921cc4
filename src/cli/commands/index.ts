import type { CliCommand } from '../command.js';
// cli commands: imports (one line each)
import { adminProjectionsList } from './admin-projections-list.js';
import { adminProjectionsRebuild } from './admin-projections-rebuild.js';
import { adminVerify } from './admin-verify.js';
import { auditLog } from './audit-log.js';
import { auditTree } from './audit-tree.js';
import { auditVerify } from './audit-verify.js';
import { adminGcCommand } from './admin-gc.js';
import { adminPurgeCommand } from './admin-purge.js';
import { loginCommand, signupCommand } from './account.js';
import { statusCommand, syncCommand } from './sync.js';

/** Every `strata` command. Each module adds its commands on its own line below. */
export const commands: readonly CliCommand[] = [
  // cli commands: list (one line each)
  auditVerify, auditLog, auditTree,
  adminProjectionsList, adminProjectionsRebuild, adminVerify,
  adminPurgeCommand, adminGcCommand,
  signupCommand, loginCommand,
  syncCommand, statusCommand,
];
