import { auditTreeAt, treeEntries } from '../../audit/tree.js';
import { CliError, type CliCommand } from '../command.js';
import { ACCESS_USAGE, EXIT, accessOptions, auditSource, guarded, lineOutput, requiredOption, timeOption } from './audit-access.js';

export const auditTree: CliCommand = {
  path: ['audit', 'tree'],
  summary: "A workspace's folder tree as it was at a moment, rebuilt from its events",
  usage: `--workspace ID --at TIME [--json] ${ACCESS_USAGE}`,
  options: { workspace: { type: 'string' }, at: { type: 'string' }, json: { type: 'boolean' }, ...accessOptions },
  run: guarded(async ({ values }, io) => {
    const workspaceId = requiredOption(values, 'workspace');
    const at = timeOption(values, 'at');
    if (at === undefined) throw new CliError('--at is required');
    const source = auditSource(values, io);
    const out = lineOutput(io.out);
    try {
      const tree = await auditTreeAt(source, workspaceId, at);
      if (tree === null) {
        io.err.write(`no workspace ${workspaceId} (or not one this token may read)\n`);
        return EXIT.failed;
      }
      if (tree.rootId === null) {
        io.err.write(`workspace ${workspaceId} did not exist yet at ${at.toISOString()}\n`);
        return EXIT.failed;
      }
      for (const e of treeEntries(tree)) {
        const line = values.json === true
          ? JSON.stringify(e)
          : e.kind === 'folder'
            ? `${e.path === '/' ? '/' : `${e.path}/`}`
            : `${e.path}  ${e.size} bytes  version ${e.versionId ?? '-'}  modified ${e.modifiedAt}`;
        await out.line(line);
      }
      return EXIT.ok;
    } finally {
      await source.close();
    }
  }),
};
