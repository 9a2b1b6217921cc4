/** The stream moved past the version the writer decided against; re-load and re-decide. */
export class ConcurrencyError extends Error {
  override readonly name = 'ConcurrencyError';
  constructor(
    readonly streamId: string,
    readonly expectedVersion: number,
  ) {
    super(`stream ${streamId} is no longer at version ${expectedVersion}`);
  }
}

/** A stored event that no codec or upcaster understands: the log is newer than this build, or damaged. */
export class EventDecodeError extends Error {
  override readonly name = 'EventDecodeError';
  constructor(
    readonly streamId: string,
    readonly version: number,
    readonly report: string,
  ) {
    super(`cannot decode event ${streamId}@${version}: ${report}`);
  }
}
