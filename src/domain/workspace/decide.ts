import type { DomainError } from '../errors.js';
import type { Either } from 'fp-ts/lib/Either.js';
import type { WorkspaceCommand } from './commands.js';
import type { WorkspaceEvent } from './events.js';
import type { WorkspaceState } from './state.js';
import { commitFileVersion, restoreVersion } from './decide/files.js';
import { createFolder, createWorkspace, deleteNode, moveNode, purgeNode, undeleteNode } from './decide/tree.js';

/** What a command means, given the workspace: the events to record, or why not. Pure. */
export const decide = (command: WorkspaceCommand, state: WorkspaceState): Either<DomainError, WorkspaceEvent[]> => {
  switch (command.type) {
    case 'CreateWorkspace':
      return createWorkspace(command, state);
    case 'CreateFolder':
      return createFolder(command, state);
    case 'CommitFileVersion':
      return commitFileVersion(command, state);
    case 'MoveNode':
      return moveNode(command, state);
    case 'DeleteNode':
      return deleteNode(command, state);
    case 'UndeleteNode':
      return undeleteNode(command, state);
    case 'RestoreVersion':
      return restoreVersion(command, state);
    case 'PurgeNode':
      return purgeNode(command, state);
    default: {
      const _exhaustive: never = command;
      return _exhaustive;
    }
  }
};
