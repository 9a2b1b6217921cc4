import { eventLog } from './001_event_log.js';
import { readModels } from './002_read_models.js';
import { serverSettings } from './003_server_settings.js';
import { accounts } from './004_accounts.js';
import { uploads } from './005_uploads.js';
import { hashChain } from './006_hash_chain.js';
import { blobGc } from './007_blob_gc.js';
import { blobPacks } from './008_blob_packs.js';
import { fencePerStatement } from './009_fence_per_statement.js';
import type { Migration } from './migration.js';

/** Every migration, in order. Append new ones; never edit or remove one that has shipped. */
export const migrations: readonly Migration[] = [eventLog, readModels, serverSettings, accounts, uploads, hashChain, blobGc, blobPacks, fencePerStatement];
