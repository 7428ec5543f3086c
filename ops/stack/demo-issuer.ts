// The demo OpenID Connect issuer of `npm start`, for the SSO example service.

import { CALLBACK_PATH } from '../../proxy/auth/endpoints.ts';
import { startIssuer } from '../oidc/issuer.ts';
import { PORTS, SERVICES, SSO_CLIENT, SSO_USERS } from './demo.ts';

const issuer = await startIssuer({
  port: PORTS.issuer,
  users: SSO_USERS,
  clients: [{ ...SSO_CLIENT, redirect_uris: [`http://${SERVICES.grafana.host}:${PORTS.proxy}${CALLBACK_PATH}`] }],
});
console.log(`demo OIDC issuer at ${issuer.url}`);
const stop = () => void issuer.stop().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
