import { eventLog } from './001_event_log.js';
import { readModels } from './002_read_models.js';
import { serverSettings } from './003_server_settings.js';
import { accounts } from './004_accounts.js';
import { uploads } from './005_uploads.js';
import type { Migration } from './migration.js';

/** Every migration, in order. Append new ones; never edit or remove one that has shipped. */
export const migrations: readonly Migration[] = [eventLog, readModels, serverSettings, accounts, uploads];
