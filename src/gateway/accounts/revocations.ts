import crypto from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { createLivenessCache, DEFAULT_LIVENESS_TTL_MS, type LivenessCache } from './liveness.js';

/** The liveness cache of one node, kept honest by revocations heard from every node. */
export interface DeviceLiveness {
  readonly cache: LivenessCache;
  /**
   * Forgets the device here at once and tells every node; resolves once every node that listens
   * has forgotten it too (or after a timeout), so that an answer sent after it is not contradicted
   * by another node still remembering the device as live.
   */
  revoke(deviceId: string): Promise<void>;
  close(): Promise<void>;
}

export interface DeviceLivenessOptions {
  readonly ttlMs?: number;
  /** How long revoke() waits for the other nodes' acknowledgements. */
  readonly ackTimeoutMs?: number;
}

const CHANNEL = 'strata:v1:revocations';
const ackChannelOf = (nodeId: string) => `${CHANNEL}:ack:${nodeId}`;

/**
 * Revocations over Redis pub/sub, acknowledged. Each node subscribes (on a connection of its own)
 * to the revocation channel and to an acknowledgement channel of its own. Revoking publishes the
 * device id; PUBLISH answers how many subscribers received it (this node included), and each of
 * them, having forgotten the device, publishes an acknowledgement back: the revoking node answers
 * its caller once it has them all. While this node's subscription is down it could miss a
 * revocation, so its cache is off (and emptied) until the subscription is back.
 */
export const createRedisDeviceLiveness = async (
  redis: { pub: Redis; sub: Redis },
  logger: Logger,
  options: DeviceLivenessOptions = {},
): Promise<DeviceLiveness> => {
  const nodeId = crypto.randomUUID();
  const ackChannel = ackChannelOf(nodeId);
  const cache = createLivenessCache({ ttlMs: options.ttlMs ?? DEFAULT_LIVENESS_TTL_MS });
  const waiting = new Map<string, { acks: number; expected: number | null; done: () => void }>();
  const settle = (id: string) => {
    const w = waiting.get(id);
    if (w === undefined || w.expected === null || w.acks < w.expected) return;
    waiting.delete(id);
    w.done();
  };
  const onMessage = (channel: string, message: string) => {
    if (channel === ackChannel) {
      const w = waiting.get(message);
      if (w !== undefined) {
        w.acks++;
        settle(message);
      }
      return;
    }
    if (channel !== CHANNEL) return;
    try {
      const m = JSON.parse(message) as { n?: unknown; d?: unknown; r?: unknown };
      if (typeof m.d !== 'string' || typeof m.n !== 'string' || typeof m.r !== 'string') throw new Error('missing field');
      cache.forget(m.d);
      redis.pub.publish(ackChannelOf(m.n), m.r).catch((err: unknown) => logger.warn({ err }, 'could not acknowledge a revocation'));
    } catch (err) {
      logger.warn({ err }, 'malformed revocation message');
    }
  };
  let closed = false;
  const subscribe = () =>
    redis.sub.subscribe(CHANNEL, ackChannel).then(
      () => cache.enable(!closed),
      (err: unknown) => logger.warn({ err }, 'could not subscribe to revocations'),
    );
  const down = () => cache.enable(false);
  // ioredis re-subscribes by itself after a reconnect; subscribing again is harmless and tells us when it is done.
  const up = () => void subscribe();
  redis.sub.on('message', onMessage);
  redis.sub.on('close', down);
  redis.sub.on('ready', up);
  cache.enable(false);
  await subscribe();

  return {
    cache,
    revoke: async (deviceId) => {
      cache.forget(deviceId);
      const id = crypto.randomUUID();
      const acknowledged = new Promise<void>((done) => waiting.set(id, { acks: 0, expected: null, done }));
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), options.ackTimeoutMs ?? 2000)));
      try {
        const receivers = await redis.pub.publish(CHANNEL, JSON.stringify({ n: nodeId, d: deviceId, r: id }));
        const w = waiting.get(id);
        if (w !== undefined) w.expected = receivers;
        settle(id);
        if ((await Promise.race([acknowledged, timeout])) === 'timeout')
          logger.warn({ deviceId, receivers, acks: waiting.get(id)?.acks }, 'a revocation was not acknowledged by every node in time; their caches forget it within the TTL');
      } catch (err) {
        logger.error({ err, deviceId }, 'could not publish a revocation; other nodes forget the device within the TTL');
      } finally {
        clearTimeout(timer);
        waiting.delete(id);
      }
    },
    close: async () => {
      closed = true;
      cache.enable(false);
      redis.sub.off('message', onMessage);
      redis.sub.off('close', down);
      redis.sub.off('ready', up);
      await redis.sub.unsubscribe(CHANNEL, ackChannel).catch(() => undefined);
    },
  };
};
