import net from 'node:net';
import { ConfigError } from '../config.js';

/** An address this process listens on, with the settings that name it. */
export interface ListenAddress {
  what: string;
  port: number;
  host: string;
  portSetting: string;
  hostSetting: string;
}

/**
 * A listen that failed, told as the setting to change: a bare "listen EADDRINUSE" names neither the
 * setting nor the likely cause, a second "vigil start" with the same settings.
 */
export function listenFailure(error: unknown, address: ListenAddress): unknown {
  const where = `${address.host}:${address.port} (${address.hostSetting}=${address.host}, ${address.portSetting}=${address.port})`;
  switch ((error as NodeJS.ErrnoException | undefined)?.code) {
    case 'EADDRINUSE':
      return new ConfigError(
        `${address.what} cannot listen on ${where}: the address is already in use. Another Vigil may be running on it (a second "vigil start" with the same settings?), or another program: stop it, or set ${address.portSetting} to a free port.`,
      );
    case 'EACCES':
      return new ConfigError(
        `${address.what} cannot listen on ${where}: permission denied. A port below 1024 needs root or the CAP_NET_BIND_SERVICE capability: set ${address.portSetting} to a port from 1024 up (and forward the low port to it), or grant the capability.`,
      );
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new ConfigError(
        `${address.what} cannot listen on ${where}: ${address.host} is not an address of this machine. Set ${address.hostSetting} to one of its addresses, or to 0.0.0.0 for all.`,
      );
    default:
      return error;
  }
}

/**
 * Takes each address and lets it go at once, before the database, the migrations, the workers or a setup
 * link: a port that is taken fails the start in a moment. The ports are not held through the start, so a
 * TCP probe finds nothing there until Vigil serves; one taken meanwhile fails the real listen, told alike.
 */
export async function checkListenAddresses(addresses: readonly ListenAddress[]): Promise<void> {
  // All held until the last is taken: two settings naming one port (PORT and VIGIL_INBOUND_SMTP_PORT)
  // would each pass alone.
  const probes: net.Server[] = [];
  try {
    for (const address of addresses) {
      if (address.port === 0) continue; // Any free port: nothing to check.
      const probe = net.createServer();
      try {
        await new Promise<void>((resolve, reject) => {
          probe.once('error', reject);
          probe.listen({ port: address.port, host: address.host }, () => resolve());
        });
      } catch (error) {
        throw listenFailure(error, address);
      }
      probes.push(probe);
    }
  } finally {
    await Promise.all(probes.map((probe) => new Promise<void>((resolve) => probe.close(() => resolve()))));
  }
}
