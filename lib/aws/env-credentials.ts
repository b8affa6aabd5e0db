/**
 * The AWS SDK clients' credentials in the bundles: serverless.yml aliases the SDK's default
 * chain (`@aws-sdk/credential-provider-node`) to this module. In Lambda the function role's
 * credentials are in the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
 * AWS_SESSION_TOKEN): the chain's first link, `fromEnv`, is the one that answers. The rest of the
 * chain (profiles and INI files, SSO, web identity with STS, container and instance metadata) is
 * about 100 KiB that no function uses and every cold start would compile. `npm start` and
 * `npm run invoke` give the functions the sandbox's credentials in the same variables.
 * Tests (not bundled) keep the SDK's own chain.
 */
import { fromEnv } from '@aws-sdk/credential-provider-env';

type Init = Parameters<typeof fromEnv>[0];

/** Same name and call as the SDK's `defaultProvider`, which the clients' runtime config imports. */
export const defaultProvider = (init?: Init) => fromEnv(init);
