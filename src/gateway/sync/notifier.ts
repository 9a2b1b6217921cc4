import crypto from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';

export type ChangeListener = (cursor: number) => void;

/** Tells waiters on every node that a workspace moved to a new cursor. */
export interface ChangeNotifier {
  /** After a durable commit on this node. */
  publish(workspaceId: string, cursor: number): void;
  /** Calls listener for every later change of the workspace, from any node; answers the unsubscribe. */
  subscribe(workspaceId: string, listener: ChangeListener): () => void;
  close(): Promise<void>;
}

const CHANNEL = 'strata:v1:changes';

/**
 * Local listeners are told at once; other nodes hear it through a Redis channel (when Redis is
 * configured). A node ignores its own messages, having told its listeners already.
 */
export const createChangeNotifier = async (redis: { pub: Redis; sub: Redis } | null, logger: Logger): Promise<ChangeNotifier> => {
  const nodeId = crypto.randomUUID();
  const listeners = new Map<string, Set<ChangeListener>>();
  const tell = (workspaceId: string, cursor: number) => {
    for (const l of listeners.get(workspaceId) ?? []) {
      try {
        l(cursor);
      } catch (err) {
        logger.warn({ err }, 'change listener failed');
      }
    }
  };
  if (redis !== null) {
    await redis.sub.subscribe(CHANNEL);
    redis.sub.on('message', (channel: string, message: string) => {
      if (channel !== CHANNEL) return;
      try {
        const m = JSON.parse(message) as { n: string; w: string; c: number };
        if (m.n !== nodeId && typeof m.w === 'string' && Number.isSafeInteger(m.c)) tell(m.w, m.c);
      } catch (err) {
        logger.warn({ err }, 'malformed change message');
      }
    });
  }
  return {
    publish: (workspaceId, cursor) => {
      tell(workspaceId, cursor);
      if (redis !== null)
        redis.pub.publish(CHANNEL, JSON.stringify({ n: nodeId, w: workspaceId, c: cursor })).catch((err: unknown) => logger.warn({ err }, 'could not publish a change'));
    },
    subscribe: (workspaceId, listener) => {
      const set = listeners.get(workspaceId) ?? new Set();
      set.add(listener);
      listeners.set(workspaceId, set);
      return () => {
        set.delete(listener);
        if (set.size === 0) listeners.delete(workspaceId);
      };
    },
    close: async () => {
      listeners.clear();
      if (redis !== null) await redis.sub.unsubscribe(CHANNEL).catch(() => undefined);
    },
  };
};
