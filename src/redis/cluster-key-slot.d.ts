// The package (by ioredis' authors, and what ioredis uses to route commands) ships no types.
declare module 'cluster-key-slot' {
  /** The cluster hash slot (0..16383) of a key, honouring {hash tags}. */
  export default function calculateSlot(key: string | Buffer): number;
}
