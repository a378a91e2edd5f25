// The TLS settings as the orchestrator reads them: the public scheme follows
// the mode, and a hostile or colliding host-name setting is refused at boot
// with CONFIG_INVALID naming the setting and what to do.
import t from 'tap';
import { loadConfig } from '../../src/config/config.js';
import { BerthError } from '../../src/errors.js';

const refusal = (env: Record<string, string>): string => {
  try {
    loadConfig({ ...process.env, ...env });
  } catch (err) {
    if (err instanceof BerthError && err.code === 'CONFIG_INVALID') return err.message;
    throw err;
  }
  return 'accepted';
};

t.test('off by default: http everywhere, the console where it listens', async (t) => {
  const config = loadConfig({ PATH: process.env.PATH });
  t.equal(config.tls.mode, 'off');
  t.equal(config.consoleUrl, 'http://127.0.0.1:7400');
});

t.test('TLS on: setup links go to the console\'s https address (port left out at 443)', async (t) => {
  t.equal(loadConfig({ BERTH_TLS_MODE: 'local-ca' }).consoleUrl, 'https://console.berth.localhost');
  t.equal(loadConfig({ BERTH_TLS_MODE: 'local-ca', BERTH_HTTPS_PORT: '8443' }).consoleUrl, 'https://console.berth.localhost:8443');
});

t.test('hostile and colliding settings are refused, naming the setting', async (t) => {
  t.match(refusal({ BERTH_TLS_MODE: 'on' }), /BERTH_TLS_MODE must be one of off, local-ca, cert, got "on"/);
  t.match(refusal({ BERTH_CONSOLE_HOST: 'console.example.com;' }), /BERTH_CONSOLE_HOST must be a lowercase DNS name/);
  t.match(refusal({ BERTH_API_PUBLIC_HOST: 'a'.repeat(1 << 20) }), /BERTH_API_PUBLIC_HOST must be a DNS name of at most 253 characters, got 1048576 characters/);
  t.match(refusal({ BERTH_BASE_DOMAIN: 'Berth.Localhost' }), /BERTH_BASE_DOMAIN must be a lowercase DNS name/);
  t.match(refusal({ BERTH_CONSOLE_HOST: 'acme.berth.localhost' }), /BERTH_CONSOLE_HOST "acme\.berth\.localhost" is under BERTH_BASE_DOMAIN, so a team could be given it/);
  t.match(refusal({ BERTH_API_PUBLIC_HOST: 'console.berth.localhost' }), /BERTH_CONSOLE_HOST and BERTH_API_PUBLIC_HOST must differ/);
  t.match(refusal({ BERTH_TLS_MODE: 'cert' }), /BERTH_TLS_MODE=cert needs BERTH_TLS_CERT: an absolute path/);
  t.match(refusal({ BERTH_TLS_MODE: 'cert', BERTH_TLS_CERT: '/etc/x.pem', BERTH_TLS_KEY: '/etc/x.key; include /etc/passwd' }), /needs BERTH_TLS_KEY/);
  t.equal(refusal({ BERTH_CONSOLE_HOST: 'admin.berth.localhost', BERTH_API_PUBLIC_HOST: 'api.example.com' }), 'accepted', 'a reserved label, or a name outside the domain');
});
