import { Redis } from 'ioredis';
import type { HostPort } from './target.js';

/**
 * Moves Sentinel-mode connections to a new primary as soon as the sentinels announce it
 * (+switch-master). A primary that dies closes its sockets and connections find the new one on
 * their own; one that hangs (a frozen host, a partition) keeps them open and unanswered, so every
 * hand-off would time out until its TCP connections failed, minutes later.
 *
 * ioredis' own failoverDetector does this too, but also acts on connections that are in the
 * middle of asking the sentinels, which ends them for good. This one only touches connections
 * that are ready and connected somewhere other than the new primary.
 */
export class SwitchWatch {
  private readonly subscribers: Redis[];
  private readonly connections = new Set<Redis>();
  /** The primary last switched to: every sentinel announces it, it is acted on once. */
  private current = '';

  constructor(
    sentinels: HostPort[],
    private readonly name: string,
    options: { password?: string; tls?: object },
  ) {
    this.subscribers = sentinels.map((s) => {
      const sub = new Redis({
        host: s.host,
        port: s.port,
        ...(options.password && { password: options.password }),
        ...(options.tls && { tls: options.tls }),
        connectionName: 'veracity-switch-watch',
        // A sentinel that is down is retried now and then; the others keep watching.
        retryStrategy: (times) => Math.min(times * 500, 5000),
        maxRetriesPerRequest: null,
        enableReadyCheck: false,
      });
      sub.on('error', () => {});
      sub.subscribe('+switch-master').catch(() => {});
      sub.on('message', (_channel: string, message: string) => this.switched(message));
      return sub;
    });
  }

  add(connection: Redis): void {
    this.connections.add(connection);
  }

  /** Forgets a connection; true when none is left (and the watch has stopped). */
  remove(connection: Redis): boolean {
    this.connections.delete(connection);
    if (this.connections.size > 0) return false;
    for (const sub of this.subscribers) sub.disconnect();
    return true;
  }

  /** `<name> <old ip> <old port> <new ip> <new port>`, once from each sentinel. */
  private switched(message: string): void {
    const [name, , , host, port] = message.split(' ');
    if (name !== this.name || `${host}:${port}` === this.current) return;
    this.current = `${host}:${port}`;
    for (const connection of this.connections) {
      if (connection.status !== 'ready') continue;
      const socket = connection.stream;
      if (!socket || (socket.remoteAddress === host && String(socket.remotePort) === port)) continue;
      // Reconnect: the connection asks the sentinels again and finds the new primary. The socket
      // is destroyed rather than ended: a hung primary never acknowledges the end, and ioredis
      // would go on writing to the half-closed socket until its disconnect timeout (2 s).
      socket.destroy();
    }
  }
}
