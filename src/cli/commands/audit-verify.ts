import { describeProblem, verifyChain, type Pin } from '../../audit/verify.js';
import { CliError, type CliCommand } from '../command.js';
import { ACCESS_USAGE, EXIT, accessOptions, auditSource, guarded, lineOutput, requiredOption } from './audit-access.js';

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
  run: guarded(async ({ values }, io) => {
    const workspaceId = requiredOption(values, 'workspace');
    const pins = parsePins(values.pin);
    const source = auditSource(values, io);
    const out = lineOutput(io.out);
    try {
      const report = await verifyChain(source, workspaceId, { pins });
      if (values.json === true) await out.line(JSON.stringify(report));
      else if (report.problem === null)
        await out.line(`ok: ${report.events} events of workspace ${workspaceId} chain to head ${report.head?.headHash} at cursor ${report.head?.cursor}`);
      // No stream is no proof of tampering (a mistyped id, another workspace's token) unless a head was pinned for it.
      else if (report.problem.kind === 'absent' && pins.length === 0)
        io.err.write(`no workspace ${workspaceId} (or not one this token may read): nothing to verify\n`);
      else await out.line(`ALTERED: workspace ${workspaceId}: ${describeProblem(report.problem)}`);
      return report.ok ? EXIT.ok : EXIT.failed;
    } finally {
      await source.close();
    }
  }),
};
