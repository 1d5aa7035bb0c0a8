/**
 * Where Redis is and how to reach it: the private server's unix socket, a URL, a primary found
 * through Sentinel, or a Cluster. A target is plain data (it crosses to the analysis thread), and
 * it carries credentials, so it is never logged: describeTarget() is what may be shown.
 */
export type RedisTarget = { socket: string } | UrlTarget | SentinelTarget | ClusterTarget;

export interface HostPort {
  host: string;
  port: number;
}

/** PEM text read from the configured files, and the name certificates are checked against. */
export interface TlsMaterial {
  ca?: string;
  cert?: string;
  key?: string;
  servername?: string;
}

export interface Credentials {
  username?: string;
  password?: string;
}

export interface UrlTarget extends Credentials {
  /** redis:// or rediss://; credentials in it win over `username`/`password`. */
  url: string;
  /** Used when the URL is rediss://. */
  tls?: TlsMaterial;
}

export interface SentinelTarget extends Credentials {
  sentinels: HostPort[];
  /** The name the sentinels know the primary by. */
  name: string;
  sentinelPassword?: string;
  /** TLS to the sentinels and to the data nodes. */
  tls?: TlsMaterial;
}

export interface ClusterTarget extends Credentials {
  cluster: HostPort[];
  natMap?: Record<string, HostPort>;
  /** A key in the slot every Veracity key is in: readiness is that slot's primary being reachable. */
  slotKey: string;
  tls?: TlsMaterial;
}
