/**
 * The floor: the two HTTP exchanges a cold get makes — Secrets Manager's GetSecretValue (signed
 * with SigV4 by hand) and ngrok's GET /event_streams/{id} — with `node:http` and `node:crypto`
 * alone: no library, no check, no log. No function can be cheaper than this.
 */
import { createHash, createHmac } from 'node:crypto';
import { request } from 'node:http';

function exchange(
  url: URL,
  method: string,
  headers: Record<string, string>,
  body = '',
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const outgoing = request(url, { method, headers }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk) => {
        text += chunk;
      });
      response.on('end', () => resolve({ status: response.statusCode ?? 0, text }));
    });
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

const hmac = (key: string | Buffer, text: string) =>
  createHmac('sha256', key).update(text).digest();
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

async function getSecretValue(secretId: string): Promise<string> {
  const url = new URL(process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER as string);
  const region = process.env.AWS_REGION as string;
  const body = JSON.stringify({ SecretId: secretId });
  const amzDate = new Date().toISOString().replace(/[-:]|\.\d{3}/g, '');
  const day = amzDate.slice(0, 8);
  const headers: Record<string, string> = {
    'content-type': 'application/x-amz-json-1.1',
    host: url.host,
    'x-amz-date': amzDate,
    'x-amz-target': 'secretsmanager.GetSecretValue',
  };
  const names = Object.keys(headers).sort();
  const canonical = [
    'POST',
    '/',
    '',
    ...names.map((name) => `${name}:${headers[name]}`),
    '',
    names.join(';'),
    sha256(body),
  ].join('\n');
  const scope = `${day}/${region}/secretsmanager/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonical)].join('\n');
  let key = hmac(`AWS4${process.env.AWS_SECRET_ACCESS_KEY}`, day);
  for (const part of [region, 'secretsmanager', 'aws4_request']) key = hmac(key, part);
  const signature = createHmac('sha256', key).update(toSign).digest('hex');
  headers.authorization = `AWS4-HMAC-SHA256 Credential=${process.env.AWS_ACCESS_KEY_ID}/${scope}, SignedHeaders=${names.join(';')}, Signature=${signature}`;
  const answer = await exchange(new URL('/', url), 'POST', headers, body);
  return (JSON.parse(answer.text) as { SecretString: string }).SecretString;
}

export const handler = async (event: { pathParameters: { id: string } }) => {
  const secret = JSON.parse(await getSecretValue(process.env.SECRET_ID as string));
  const answer = await exchange(
    new URL(`${process.env.NGROK_API_URL}/event_streams/${event.pathParameters.id}`),
    'GET',
    { authorization: `Bearer ${secret.ngrok_api_key}`, 'ngrok-version': '2' },
  );
  return { statusCode: answer.status, body: answer.text };
};
