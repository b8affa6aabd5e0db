/**
 * The peer: GET /event-streams/{id} as one would write it on the official SDK,
 * `@ngrok/ngrok-api` 0.3.0 (the last with Event Streams), with middy and the AWS SDK's Secrets
 * Manager client. The same secret and the same bearer-token check as ours, the secret cached
 * per container for SECRET_CACHE_SECONDS — the usual module-level cache, which reads once per
 * invocation until the first read is back.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import middy from '@middy/core';
import { Ngrok } from '@ngrok/ngrok-api';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';

interface Secret {
  ngrok_api_key: string;
  callers: { name: string; token_sha256: string; scopes: string[] }[];
}

const secrets = new SecretsManagerClient({});
let cached: { secret: Secret; expires: number } | undefined;

async function serviceSecret(): Promise<Secret> {
  if (cached && cached.expires > Date.now()) return cached.secret;
  const answer = await secrets.send(new GetSecretValueCommand({ SecretId: process.env.SECRET_ID }));
  const secret = JSON.parse(answer.SecretString ?? '') as Secret;
  cached = {
    secret,
    expires: Date.now() + Number(process.env.SECRET_CACHE_SECONDS ?? 300) * 1000,
  };
  return secret;
}

function problem(status: number, title: string) {
  return {
    statusCode: status,
    headers: { 'content-type': 'application/problem+json' },
    body: JSON.stringify({ status, title }),
  };
}

export const handler = middy<APIGatewayProxyEventV2>().handler(async (event) => {
  const token = /^Bearer (\S+)$/.exec(event.headers.authorization ?? '')?.[1];
  if (token === undefined) return problem(401, 'Unauthorized');
  const secret = await serviceSecret();
  const presented = createHash('sha256').update(token).digest();
  const caller = secret.callers.find((each) => {
    const stored = Buffer.from(each.token_sha256, 'hex');
    return stored.length === presented.length && timingSafeEqual(stored, presented);
  });
  if (caller === undefined) return problem(401, 'Unauthorized');
  const id = event.pathParameters?.id ?? '';
  const ngrok = new Ngrok({
    apiToken: secret.ngrok_api_key,
    baseUrl: process.env.NGROK_API_URL as string,
  });
  const stream = await ngrok.eventStreams.get({ id });
  return {
    statusCode: 200,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(stream),
  };
});
