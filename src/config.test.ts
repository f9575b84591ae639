import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import nodemailer from 'nodemailer';
import { parseConnectionUrl } from 'nodemailer/lib/shared';
import type SMTPTransport from 'nodemailer/lib/smtp-transport';
import { ConfigError, loadConfig } from './config.js';
import { startTestSmtpServer } from './testing/smtp.js';

/** loadConfig refuses `env` with a ConfigError whose message passes `check`. */
function refusedWith(env: NodeJS.ProcessEnv, check: (message: string) => boolean): void {
  assert.throws(
    () => loadConfig(env),
    (error: unknown) => error instanceof ConfigError && check(error.message),
    JSON.stringify(env),
  );
}

describe('VIGIL_DATABASE_PREPARED_STATEMENTS', () => {
  it('is on unless turned off', () => {
    assert.equal(loadConfig({}).databasePreparedStatements, true);
    assert.equal(loadConfig({ VIGIL_DATABASE_PREPARED_STATEMENTS: 'off' }).databasePreparedStatements, false);
    assert.equal(
      loadConfig({ VIGIL_DATABASE_PREPARED_STATEMENTS: ' False ' }).databasePreparedStatements,
      false,
    );
    assert.equal(loadConfig({ VIGIL_DATABASE_PREPARED_STATEMENTS: 'on' }).databasePreparedStatements, true);
  });

  it('says which values it takes', () => {
    assert.throws(
      () => loadConfig({ VIGIL_DATABASE_PREPARED_STATEMENTS: 'sometimes' }),
      (error: unknown) =>
        error instanceof ConfigError &&
        error.message === 'VIGIL_DATABASE_PREPARED_STATEMENTS must be on or off, not "sometimes".',
    );
  });
});

describe('VIGIL_REQUEST_TIMEOUT_SECONDS', () => {
  it('gives a client two minutes to send its request unless told otherwise', () => {
    assert.equal(loadConfig({}).requestTimeoutSeconds, 120);
    assert.equal(loadConfig({ VIGIL_REQUEST_TIMEOUT_SECONDS: '600' }).requestTimeoutSeconds, 600);
  });

  it('refuses no limit, or one it cannot read', () => {
    for (const value of ['0', '3601', '1.5', 'never']) {
      assert.throws(
        () => loadConfig({ VIGIL_REQUEST_TIMEOUT_SECONDS: value }),
        (error: unknown) =>
          error instanceof ConfigError &&
          error.message ===
            `VIGIL_REQUEST_TIMEOUT_SECONDS=${JSON.stringify(value)} is not valid: give a whole number from 1 to 3600.`,
      );
    }
  });
});

describe('VIGIL_TRUST_PROXY', () => {
  it('believes nobody unless told whom', () => {
    assert.equal(loadConfig({}).trustProxy, false);
    assert.equal(loadConfig({ VIGIL_TRUST_PROXY: 'off' }).trustProxy, false);
    // `on` is the nearest proxy's word (one hop), not the left-most address, which the client wrote.
    assert.equal(loadConfig({ VIGIL_TRUST_PROXY: 'on' }).trustProxy, 1);
    assert.equal(loadConfig({ VIGIL_TRUST_PROXY: '2' }).trustProxy, 2);
    assert.deepEqual(
      loadConfig({ VIGIL_TRUST_PROXY: '10.0.0.0/8, 127.0.0.1,::1,fd00::/8,loopback' }).trustProxy,
      ['10.0.0.0/8', '127.0.0.1', '::1', 'fd00::/8', 'loopback'],
    );
  });

  it('names what it cannot read, and what it takes', () => {
    for (const [value, wrong] of [
      ['10.0.0.0/33', '"10.0.0.0/33"'],
      ['proxy.example.com', '"proxy.example.com"'],
      ['0', '"0"'],
      ['11', '"11"'],
      ['127.0.0.1,', '""'],
    ]) {
      assert.throws(
        () => loadConfig({ VIGIL_TRUST_PROXY: value }),
        (error: unknown) =>
          error instanceof ConfigError &&
          error.message.includes(`not understood (${wrong})`) &&
          error.message.includes('give off, on'),
        value,
      );
    }
  });
});

describe('VIGIL_PUBLIC_URL', () => {
  it('warns at start when it is not set and others may reach Vigil, or PORT is 0', () => {
    const warningOf = (env: Record<string, string>) => loadConfig(env).publicUrlWarning;
    assert.match(warningOf({}) ?? '', /^VIGIL_PUBLIC_URL is not set: .* use http:\/\/localhost:8080, /);
    assert.match(warningOf({ HOST: '0.0.0.0', PORT: '9090' }) ?? '', /localhost:9090.*set VIGIL_PUBLIC_URL/);
    assert.match(warningOf({ HOST: '127.0.0.1', PORT: '0' }) ?? '', /PORT is 0: .* name port 0/);
    assert.match(
      warningOf({ HOST: '127.0.0.1', VIGIL_TRUST_PROXY: 'loopback' }) ?? '',
      /which those coming through the proxy do not reach/,
      'behind a proxy on the same machine, others reach it',
    );
    // `off` (the default, spelt out) is no proxy.
    assert.equal(warningOf({ HOST: '127.0.0.1', VIGIL_TRUST_PROXY: 'off' }), undefined);
    for (const host of ['127.0.0.1', '127.0.1.1', '::1', 'localhost', 'LOCALHOST', '::ffff:127.0.0.1'])
      assert.equal(warningOf({ HOST: host }), undefined, `only this machine reaches ${host}`);
    assert.equal(warningOf({ VIGIL_PUBLIC_URL: 'https://vigil.example.com' }), undefined);
    assert.equal(warningOf({ VIGIL_PUBLIC_URL: 'https://vigil.example.com', PORT: '0' }), undefined);
  });
});

describe('VIGIL_SMTP_URL', () => {
  const refused = (value: string) =>
    assert.throws(
      () => loadConfig({ VIGIL_SMTP_URL: value }),
      (error: Error) =>
        error instanceof ConfigError &&
        /^VIGIL_SMTP_URL /.test(error.message) &&
        error.message.includes('smtp://user:password@smtp.example.com:587') &&
        !error.message.includes('secret'),
      value,
    );

  it('takes smtp:// and smtps:// URLs with a host', () => {
    assert.equal(
      loadConfig({ VIGIL_SMTP_URL: 'smtp://smtp.example.com:587' }).smtpUrl,
      'smtp://smtp.example.com:587',
    );
    assert.equal(
      loadConfig({ VIGIL_SMTP_URL: 'smtps://smtp.example.com' }).smtpUrl,
      'smtps://smtp.example.com',
    );
    assert.equal(loadConfig({}).smtpUrl, undefined);
  });

  it('refuses a relay without the scheme, another scheme, or no host', () => {
    // Taken as a URL whose scheme is "smtp.example.com:", it would send the mail to 0.0.2.75.
    refused('smtp.example.com:587');
    refused('smtp.example.com');
    refused('user:secret@smtp.example.com:587');
    refused('http://smtp.example.com');
    refused('smtp:smtp.example.com');
    refused('smtp://');
  });
});

describe('VIGIL_SMTP_URL and STARTTLS', () => {
  const smtpUrl = (value: string) => loadConfig({ VIGIL_SMTP_URL: value }).smtpUrl;

  it('requires STARTTLS before a password goes to a relay beyond this machine', () => {
    assert.equal(
      smtpUrl('smtp://u:p@smtp.example.com:587'),
      'smtp://u:p@smtp.example.com:587?requireTLS=true',
    );
    assert.equal(
      smtpUrl('smtp://u:p@smtp.example.com:587?maxConnections=2'),
      'smtp://u:p@smtp.example.com:587?maxConnections=2&requireTLS=true',
    );
    assert.equal(parseConnectionUrl(smtpUrl('smtp://u:p@10.0.0.5:25')).requireTLS, true);
    // Said at start, with the way out for a relay that has no STARTTLS; never the password.
    const note = loadConfig({ VIGIL_SMTP_URL: 'smtp://u:secret@smtp.example.com:587' }).smtpTlsNote ?? '';
    assert.match(note, /smtp\.example\.com:587.*\?requireTLS=false/);
    assert.doesNotMatch(note, /secret/);
  });

  it('leaves alone a URL without credentials, to this machine, over smtps://, or that says either way', () => {
    for (const value of [
      'smtp://smtp.example.com:25',
      'smtp://u:p@localhost:25',
      'smtp://u:p@127.0.0.1:2525',
      'smtp://u:p@[::1]:25',
      'smtps://u:p@smtp.example.com:465',
      'smtp://u:p@smtp.example.com:25?ignoreTLS=true',
      'smtp://u:p@smtp.example.com:25?requireTLS=false',
    ]) {
      assert.equal(smtpUrl(value), value);
      assert.equal(loadConfig({ VIGIL_SMTP_URL: value }).smtpTlsNote, undefined);
    }
    assert.equal(
      parseConnectionUrl(smtpUrl('smtp://u:p@smtp.example.com:25?requireTLS=false')).requireTLS,
      false,
    );
  });

  it('makes a send to a relay that offers no STARTTLS fail instead of logging in in clear', async () => {
    const server = await startTestSmtpServer({ auth: { user: 'u', pass: 'p' } });
    try {
      // The relay as configured, with its host and port pointed at the test server (which offers no STARTTLS).
      const configured = new URL(smtpUrl('smtp://u:p@smtp.example.com:587') ?? '');
      configured.hostname = '127.0.0.1';
      configured.port = String(server.port);
      const transport = nodemailer.createTransport(
        parseConnectionUrl(configured.toString()) as SMTPTransport.Options,
      );
      await assert.rejects(
        transport.sendMail({ from: 'vigil@example.com', to: 'oncall@example.com', subject: 'x', text: 'x' }),
        /STARTTLS/,
      );
      transport.close();
      assert.equal(server.messages.length, 0);
    } finally {
      await server.stop();
    }
  });
});

describe('LOG_LEVEL', () => {
  it("takes pino's levels", () => {
    assert.equal(loadConfig({}).logLevel, 'info');
    for (const level of ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
      assert.equal(loadConfig({ LOG_LEVEL: level }).logLevel, level);
    assert.equal(loadConfig({ LOG_LEVEL: 'DEBUG' }).logLevel, 'debug');
  });

  it('refuses another name, naming LOG_LEVEL', () => {
    refusedWith(
      { LOG_LEVEL: 'verbose' },
      (message) =>
        message ===
        'LOG_LEVEL="verbose" is not a log level: give one of fatal, error, warn, info, debug, trace, silent (default info).',
    );
  });
});

describe('DATABASE_URL', () => {
  it('takes URLs the pg driver reads, a socket folder and an encoded password included', () => {
    for (const value of [
      'postgres://vigil:secret@db.example.com:5432/vigil',
      'postgresql://vigil:p%2Fss%23@db.example.com/vigil?sslmode=require',
      'postgres://vigil:secret@/vigil?host=/var/run/postgresql',
      'postgres://vigil:secret@localhost/vigil?host=/var/run/postgresql',
      'postgres://vigil:100%@db.example.com/vigil',
    ]) {
      assert.equal(loadConfig({ DATABASE_URL: value }).databaseUrl, value);
    }
  });

  it('refuses a password with an unencoded / or #, saying to percent-encode it, never repeating it', () => {
    for (const value of [
      'postgres://vigil:se/cret@db.example.com/vigil',
      'postgres://vigil:se#cret@db.example.com/vigil',
      'postgres://vigil:se?cret@db.example.com/vigil',
    ]) {
      refusedWith(
        { DATABASE_URL: value },
        (message) =>
          message.startsWith('DATABASE_URL is not a valid URL: percent-encode special characters') &&
          !message.includes('cret'),
      );
    }
  });
});

describe('VIGIL_EMAIL_FROM', () => {
  it('takes an address, with or without a name', () => {
    assert.equal(loadConfig({}).emailFrom, undefined);
    assert.equal(loadConfig({ VIGIL_EMAIL_FROM: 'vigil@example.com' }).emailFrom, 'vigil@example.com');
    assert.equal(
      loadConfig({ VIGIL_EMAIL_FROM: 'Vigil on-call <vigil@alerts.example.com>' }).emailFrom,
      'Vigil on-call <vigil@alerts.example.com>',
    );
    // A relay's one-word domain, and names nodemailer takes (Vigil's own default is Vigil <vigil@localhost>).
    for (const value of ['vigil@localhost', 'Vigil <vigil@localhost>', '"Vigil <ops>" <vigil@example.com>']) {
      assert.equal(loadConfig({ VIGIL_EMAIL_FROM: value }).emailFrom, value);
    }
  });

  it('refuses what is not an address, naming the variable', () => {
    for (const value of ['vigil', 'Vigil <vigil>', 'vigil@', '<>', 'Vigil vigil@example.com>']) {
      refusedWith(
        { VIGIL_EMAIL_FROM: value },
        (message) =>
          message ===
          `VIGIL_EMAIL_FROM=${JSON.stringify(value)} is not an email address: give the From of Vigil's email, such as vigil@example.com or Vigil <vigil@example.com>.`,
      );
    }
  });
});

describe('HTTPS_PROXY', () => {
  it('takes an http:// proxy, or a bare host:port', () => {
    assert.doesNotThrow(() => loadConfig({ HTTPS_PROXY: 'http://user:pw@proxy.example.com:3128' }));
    assert.doesNotThrow(() => loadConfig({ https_proxy: 'proxy.example.com:3128' }));
    // Not read: only https targets go through a proxy.
    assert.doesNotThrow(() => loadConfig({ HTTP_PROXY: 'socks5://proxy:1080' }));
  });

  it('refuses at start what the first outbound call would refuse, naming the variable, not the password', () => {
    refusedWith(
      { HTTPS_PROXY: 'https://user:secret@proxy.example.com:3128' },
      (message) => message === 'HTTPS_PROXY uses https:// which is not supported: give an http:// proxy URL.',
    );
    refusedWith(
      { https_proxy: 'http://user:secret@proxy example.com:3128' },
      (message) => message === 'https_proxy is not a valid URL: give one like http://proxy.example.com:3128.',
    );
  });
});

describe('VIGIL_WEBHOOK_ALLOW_HTTP_HOSTS, VIGIL_PUSH_SERVICE_HOSTS and VIGIL_SSO_ALLOW_HOSTS', () => {
  const names = [
    'VIGIL_WEBHOOK_ALLOW_HTTP_HOSTS',
    'VIGIL_PUSH_SERVICE_HOSTS',
    'VIGIL_SSO_ALLOW_HOSTS',
  ] as const;
  const hosts = (name: (typeof names)[number], value: string) => {
    const config = loadConfig({ [name]: value });
    const of = {
      VIGIL_WEBHOOK_ALLOW_HTTP_HOSTS: config.webhookAllowHttpHosts,
      VIGIL_PUSH_SERVICE_HOSTS: config.extraPushServiceHosts,
      VIGIL_SSO_ALLOW_HOSTS: config.ssoAllowHosts,
    };
    return of[name];
  };

  it('are empty unless set, each read into its own list', () => {
    const config = loadConfig({ VIGIL_SSO_ALLOW_HOSTS: 'keycloak.corp.example' });
    assert.deepEqual(config.ssoAllowHosts, ['keycloak.corp.example']);
    assert.deepEqual(config.webhookAllowHttpHosts, [], 'single sign-on’s list allows no webhook');
    assert.deepEqual(loadConfig({}).ssoAllowHosts, []);
  });

  it('takes host names and addresses, as the host names of URLs are written', () => {
    for (const name of names) {
      assert.deepEqual(
        hosts(name, ' Hooks.Example.com, 10.0.0.5,[::1], 0:0:0:0:0:0:0:1,my_host,fqdn.example.com. '),
        ['hooks.example.com', '10.0.0.5', '::1', '::1', 'my_host', 'fqdn.example.com'],
      );
    }
  });

  it('refuses an entry with a scheme, a port, a path, a network or a wildcard, saying the form expected', () => {
    for (const name of names) {
      for (const entry of [
        'https://hooks.example.com',
        'hooks.example.com:8080',
        'hooks.example.com/hook',
        '10.0.0.0/8',
        '*.example.com',
        '.example.com',
        // A URL reads it as another host (10.0.0.1), or cannot hold it: neither could ever match.
        '10.1',
        'fe80::1%eth0',
      ]) {
        refusedWith(
          { [name]: `ok.example.com,${entry}` },
          (message) =>
            message.startsWith(
              `${name} has ${JSON.stringify(entry)}, which is not a host name or an IP address: give hosts comma-separated`,
            ) && message.includes('without a scheme, port, path or network'),
        );
      }
    }
  });
});

describe('VIGIL_BOOTSTRAP_ADMIN_PASSWORD', () => {
  const env = (password: string) => ({
    VIGIL_BOOTSTRAP_ADMIN_EMAIL: 'admin@example.com',
    VIGIL_BOOTSTRAP_ADMIN_PASSWORD: password,
  });

  it('takes 12 to 256 characters, what sign-in takes', () => {
    assert.equal(loadConfig(env('x'.repeat(12))).bootstrapAdmin?.password.length, 12);
    assert.equal(loadConfig(env('x'.repeat(256))).bootstrapAdmin?.password.length, 256);
  });

  it('refuses a password sign-in would refuse for good, naming the variable', () => {
    for (const [password, problem] of [
      ['x'.repeat(257), /at most 256/],
      ['x'.repeat(11), /at least 12/],
    ] as const)
      assert.throws(
        () => loadConfig(env(password)),
        (error: Error) =>
          error instanceof ConfigError &&
          /^VIGIL_BOOTSTRAP_ADMIN_PASSWORD /.test(error.message) &&
          problem.test(error.message),
      );
  });
});

describe('VIGIL_PUBLIC_URL and the inbound email domain', () => {
  it('takes a public URL whose host is no mail domain while the inbound SMTP listener is off', () => {
    for (const url of [
      'http://[::1]:8080',
      'https://[2001:db8::1]',
      'https://my_host.example.com',
      'https://vigil.example.com.',
    ]) {
      const config = loadConfig({ VIGIL_PUBLIC_URL: url });
      assert.equal(config.inboundEmail.port, undefined, url);
    }
  });

  it('with the listener on, asks for VIGIL_INBOUND_EMAIL_DOMAIN when the derived domain is no domain name', () => {
    assert.throws(
      () => loadConfig({ VIGIL_PUBLIC_URL: 'http://[::1]:8080', VIGIL_INBOUND_SMTP_PORT: '2525' }),
      (error: Error) => error instanceof ConfigError && /set VIGIL_INBOUND_EMAIL_DOMAIN/.test(error.message),
    );
    const config = loadConfig({
      VIGIL_PUBLIC_URL: 'http://[::1]:8080',
      VIGIL_INBOUND_SMTP_PORT: '2525',
      VIGIL_INBOUND_EMAIL_DOMAIN: 'Alerts.Example.com',
    });
    assert.equal(config.inboundEmail.domain, 'alerts.example.com');
    assert.equal(
      loadConfig({ VIGIL_PUBLIC_URL: 'https://vigil.example.com', VIGIL_INBOUND_SMTP_PORT: '2525' })
        .inboundEmail.domain,
      'vigil.example.com',
    );
  });

  it('turns the metrics listener on with VIGIL_METRICS_PORT, and refuses a port out of range', () => {
    assert.deepEqual(loadConfig({}).metrics, { port: undefined, host: '0.0.0.0' });
    assert.deepEqual(loadConfig({ VIGIL_METRICS_PORT: '9464', VIGIL_METRICS_HOST: '127.0.0.1' }).metrics, {
      port: 9464,
      host: '127.0.0.1',
    });
    assert.throws(
      () => loadConfig({ VIGIL_METRICS_PORT: '70000' }),
      (error: Error) =>
        error instanceof ConfigError &&
        error.message === 'VIGIL_METRICS_PORT="70000" is not valid: give a whole number from 0 to 65535.',
    );
  });

  it('limits API keys only with VIGIL_API_RATE_LIMIT_PER_MINUTE, a tenth of it at once unless told', () => {
    assert.equal(loadConfig({}).apiRateLimit, undefined);
    assert.equal(loadConfig({ VIGIL_API_RATE_LIMIT_PER_MINUTE: '0' }).apiRateLimit, undefined);
    assert.deepEqual(loadConfig({ VIGIL_API_RATE_LIMIT_PER_MINUTE: '601' }).apiRateLimit, {
      perMinute: 601,
      burst: 61,
    });
    assert.deepEqual(loadConfig({ VIGIL_API_RATE_LIMIT_PER_MINUTE: '5' }).apiRateLimit, {
      perMinute: 5,
      burst: 1,
    });
    assert.deepEqual(
      loadConfig({ VIGIL_API_RATE_LIMIT_PER_MINUTE: '600', VIGIL_API_RATE_LIMIT_BURST: '1000' }).apiRateLimit,
      { perMinute: 600, burst: 1000 },
    );
    assert.throws(
      () => loadConfig({ VIGIL_API_RATE_LIMIT_BURST: '10' }),
      (error: Error) =>
        error instanceof ConfigError && /PER_MINUTE is not: set the rate too/.test(error.message),
    );
    assert.throws(
      () => loadConfig({ VIGIL_API_RATE_LIMIT_PER_MINUTE: '60', VIGIL_API_RATE_LIMIT_BURST: '0' }),
      (error: Error) =>
        error instanceof ConfigError && /^VIGIL_API_RATE_LIMIT_BURST="0" is not valid/.test(error.message),
    );
  });

  it('refuses a VIGIL_INBOUND_EMAIL_DOMAIN that is no domain name, even with the listener off', () => {
    assert.throws(
      () => loadConfig({ VIGIL_INBOUND_EMAIL_DOMAIN: 'not a domain' }),
      (error: Error) => error instanceof ConfigError && /^VIGIL_INBOUND_EMAIL_DOMAIN=/.test(error.message),
    );
  });

  it('refuses a public URL with a query, a fragment or credentials', () => {
    for (const url of [
      'https://vigil.example.com/?a=1',
      'https://vigil.example.com/#top',
      'https://vigil.example.com?',
      'https://user:secret@vigil.example.com',
      'https://user@vigil.example.com',
    ])
      assert.throws(
        () => loadConfig({ VIGIL_PUBLIC_URL: url }),
        (error: Error) =>
          error instanceof ConfigError &&
          /^VIGIL_PUBLIC_URL/.test(error.message) &&
          !error.message.includes('secret'),
        url,
      );
  });
});
