import { describeProblem, verifyChain, type Pin } from '../../audit/verify.js';
import { CliError, type CliCommand } from '../command.js';
import { ACCESS_USAGE, accessOptions, auditSource, requiredOption } from './audit-access.js';

const parsePins = (raw: unknown): Pin[] =>
  (Array.isArray(raw) ? raw : raw === undefined ? [] : [raw]).map((p) => {
    const m = typeof p === 'string' ? /^(\d+):([0-9a-fA-F]{64})$/.exec(p) : null;
    if (m === null) throw new CliError(`--pin must be CURSOR:HASH (a cursor and a 64-hex head hash from audit/head), not ${String(p)}`);
    return { version: Number(m[1]), hash: (m[2] as string).toLowerCase() };
  });

export const auditVerify: CliCommand = {
  path: ['audit', 'verify'],
  summary: "Recompute a workspace's event hash chain; exit 1 at the first altered event",
  usage: `--workspace ID [--pin CURSOR:HASH ...] [--json] ${ACCESS_USAGE}`,
  options: { workspace: { type: 'string' }, pin: { type: 'string', multiple: true }, json: { type: 'boolean' }, ...accessOptions },
  run: async ({ values }, io) => {
    const workspaceId = requiredOption(values, 'workspace');
    const pins = parsePins(values.pin);
    const source = auditSource(values, io);
    try {
      const report = await verifyChain(source, workspaceId, { pins });
      if (values.json === true) io.out.write(`${JSON.stringify(report)}\n`);
      else if (report.problem === null)
        io.out.write(`ok: ${report.events} events of workspace ${workspaceId} chain to head ${report.head?.headHash} at cursor ${report.head?.cursor}\n`);
      else io.out.write(`ALTERED: workspace ${workspaceId}: ${describeProblem(report.problem)}\n`);
      return report.ok ? 0 : 1;
    } finally {
      await source.close();
    }
  },
};
