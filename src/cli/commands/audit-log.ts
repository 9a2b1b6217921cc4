import { formatEntry, streamAuditLog } from '../../audit/log.js';
import type { CliCommand } from '../command.js';
import { ACCESS_USAGE, EXIT, accessOptions, auditSource, guarded, lineOutput, requiredOption, stringOption, timeOption } from './audit-access.js';

export const auditLog: CliCommand = {
  path: ['audit', 'log'],
  summary: 'Every change of a workspace: time, user, device, type and paths at the time',
  usage: `--workspace ID [--path /P] [--since TIME] [--until TIME] [--json] ${ACCESS_USAGE}`,
  options: { workspace: { type: 'string' }, path: { type: 'string' }, since: { type: 'string' }, until: { type: 'string' }, json: { type: 'boolean' }, ...accessOptions },
  run: guarded(async ({ values }, io) => {
    const workspaceId = requiredOption(values, 'workspace');
    const path = stringOption(values, 'path');
    const since = timeOption(values, 'since');
    const until = timeOption(values, 'until');
    const filter = {
      ...(path === undefined ? {} : { path: path.length > 1 ? path.replace(/\/+$/, '') : path }),
      ...(since === undefined ? {} : { since }),
      ...(until === undefined ? {} : { until }),
    };
    const source = auditSource(values, io);
    const out = lineOutput(io.out);
    try {
      // JSON: one object per line, so the output streams too.
      const read = await streamAuditLog(source, workspaceId, filter, (entry) => out.line(values.json === true ? JSON.stringify(entry) : formatEntry(entry)));
      if (read === null) {
        io.err.write(`no workspace ${workspaceId} (or not one this token may read)\n`);
        return EXIT.failed;
      }
      return EXIT.ok;
    } finally {
      await source.close();
    }
  }),
};
