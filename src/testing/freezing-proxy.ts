import net from 'node:net';

/**
 * A TCP proxy to the PostgreSQL at `url` whose open connections can be frozen: they stop carrying anything
 * either way but stay open, as a failover behind a pooler or a NAT, or a host gone from the network, looks
 * from Vigil (no answer and no error, ever). Connections opened after a freeze go through.
 */
export async function freezingProxy(url: string): Promise<{
  /** The URL to connect through the proxy. */
  url: string;
  /** Freezes every connection open now. */
  freeze(): void;
  /** How many connections were opened through the proxy. */
  opened(): number;
  close(): Promise<void>;
}> {
  const target = new URL(url);
  // The test server is reached over its Unix socket (the `host` parameter names its folder).
  const socketDir = target.searchParams.get('host');
  const pairs = new Set<{ sockets: net.Socket[]; frozen: boolean }>();
  let opened = 0;
  const server = net.createServer((client) => {
    opened++;
    const upstream = socketDir
      ? net.connect(`${socketDir}/.s.PGSQL.${target.port || '5432'}`)
      : net.connect(Number(target.port || '5432'), target.hostname);
    const pair = { sockets: [client, upstream], frozen: false };
    pairs.add(pair);
    for (const socket of pair.sockets) {
      socket.on('error', () => socket.destroy());
      socket.on('close', () => {
        pairs.delete(pair);
        client.destroy();
        upstream.destroy();
      });
    }
    client.on('data', (data) => pair.frozen || upstream.write(data));
    upstream.on('data', (data) => pair.frozen || client.write(data));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const through = new URL(url);
  through.searchParams.delete('host');
  through.hostname = '127.0.0.1';
  through.port = String((server.address() as net.AddressInfo).port);
  return {
    url: through.toString(),
    freeze() {
      for (const pair of pairs) pair.frozen = true;
    },
    opened: () => opened,
    async close() {
      for (const pair of pairs) for (const socket of pair.sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
