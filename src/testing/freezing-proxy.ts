import net from 'node:net';

/**
 * A TCP proxy to the PostgreSQL at `url`: `relay` carries each connection's bytes between the client and
 * the server as the test wants (frozen, slowed). Returns the URL to connect through it.
 */
export async function pgProxy(
  url: string,
  relay: (client: net.Socket, upstream: net.Socket) => void,
): Promise<{ url: string; opened(): number; close(): Promise<void> }> {
  const target = new URL(url);
  // The test server is reached over its Unix socket (the `host` parameter names its folder).
  const socketDir = target.searchParams.get('host');
  const sockets = new Set<net.Socket>();
  let opened = 0;
  const server = net.createServer((client) => {
    opened++;
    const upstream = socketDir
      ? net.connect(`${socketDir}/.s.PGSQL.${target.port || '5432'}`)
      : net.connect(Number(target.port || '5432'), target.hostname);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => socket.destroy());
      socket.on('close', () => {
        sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
    relay(client, upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const through = new URL(url);
  through.searchParams.delete('host');
  through.hostname = '127.0.0.1';
  through.port = String((server.address() as net.AddressInfo).port);
  return {
    url: through.toString(),
    opened: () => opened,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/**
 * A proxy (pgProxy) whose open connections can be frozen: they stop carrying anything either way but
 * stay open, as a failover behind a pooler or a NAT, or a host gone from the network, looks from Vigil
 * (no answer and no error, ever). Connections opened after a freeze go through.
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
  const open = new Set<{ frozen: boolean }>();
  const proxy = await pgProxy(url, (client, upstream) => {
    const pair = { frozen: false };
    open.add(pair);
    client.on('close', () => open.delete(pair));
    client.on('data', (data) => pair.frozen || upstream.write(data));
    upstream.on('data', (data) => pair.frozen || client.write(data));
  });
  return {
    ...proxy,
    freeze() {
      for (const pair of open) pair.frozen = true;
    },
  };
}

/** A proxy (pgProxy) that carries what the client sends at `bytesPerSecond`: a slow link to the database. */
export function slowUplinkProxy(url: string, bytesPerSecond: number) {
  return pgProxy(url, (client, upstream) => {
    client.on('data', (data) => {
      upstream.write(data);
      client.pause();
      setTimeout(() => client.resume(), (data.length / bytesPerSecond) * 1000);
    });
    upstream.pipe(client);
  });
}
