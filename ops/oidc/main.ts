// `node ops/oidc/main.ts`: the demo OIDC issuer on 127.0.0.1:9400 with the client that
// examples/proxy.config.json and `npm start` use (ops/oidc/demo-identities.ts). Options: --port,
// --redirect-uri (repeatable).

import { parseArgs } from 'node:util';
import { DEMO_ISSUER_PORT, DEMO_SSO_CLIENT, DEMO_SSO_USERS } from './demo-identities.ts';
import { startIssuer } from './issuer.ts';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: String(DEMO_ISSUER_PORT) },
    'redirect-uri': { type: 'string', multiple: true, default: ['http://dashboard.localhost:8080/.proxy/callback'] },
  },
});

const issuer = await startIssuer({
  port: Number(values.port),
  users: DEMO_SSO_USERS,
  clients: [{ ...DEMO_SSO_CLIENT, redirect_uris: values['redirect-uri'] }],
});
process.stdout.write(`demo OIDC issuer at ${issuer.url} (users: ${DEMO_SSO_USERS.map((user) => user.sub).join(', ')}; sessions in memory)\n`);
const stop = () => void issuer.stop().then(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
