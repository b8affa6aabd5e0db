/**
 * AWS Secrets Manager's `GetSecretValue`, enough for the real `@aws-sdk/client-secrets-manager`
 * (pointed here with `AWS_ENDPOINT_URL_SECRETS_MANAGER`) to read a secret the sandbox holds.
 * Protocol: AWS JSON 1.1, `POST /` with `X-Amz-Target: secretsmanager.GetSecretValue`; errors are
 * a 400 with `__type` in the body and `x-amzn-ErrorType` in the headers.
 */
import { randomBytes, randomUUID } from 'node:crypto';

export const AMZ_JSON = 'application/x-amz-json-1.1';
const ACCOUNT_ID = '000000000000';

interface StoredSecret {
  name: string;
  arnSuffix: string;
  versionId: string;
  secretString: string;
  createdDate: number;
}

export interface AwsResponse {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

function awsError(type: string, message: string): AwsResponse {
  return {
    status: 400,
    headers: { 'content-type': AMZ_JSON, 'x-amzn-errortype': type },
    body: { __type: type, message },
  };
}

export class SecretsStore {
  private readonly secrets = new Map<string, StoredSecret>();

  put(name: string, secretString: string): { name: string; version_id: string } {
    const previous = this.secrets.get(name);
    const secret: StoredSecret = {
      name,
      arnSuffix: previous?.arnSuffix ?? randomBytes(3).toString('hex'),
      versionId: randomUUID(),
      secretString,
      createdDate: Date.now() / 1000,
    };
    this.secrets.set(name, secret);
    return { name, version_id: secret.versionId };
  }

  delete(name: string): boolean {
    return this.secrets.delete(name);
  }

  names(): string[] {
    return [...this.secrets.keys()];
  }

  /** A secret by name, full ARN, or partial ARN (the ARN without its 6-character suffix). */
  private find(secretId: string): StoredSecret | undefined {
    if (!secretId.startsWith('arn:')) return this.secrets.get(secretId);
    const resource = secretId.split(':secret:')[1] ?? '';
    for (const secret of this.secrets.values()) {
      if (resource === secret.name || resource === `${secret.name}-${secret.arnSuffix}`) {
        return secret;
      }
    }
    return undefined;
  }

  handle(
    target: string,
    headers: Record<string, string | string[] | undefined>,
    rawBody: string,
  ): AwsResponse {
    const authorization = headers.authorization;
    if (typeof authorization !== 'string' || !authorization.startsWith('AWS4-HMAC-SHA256 ')) {
      return awsError('MissingAuthenticationTokenException', 'Missing Authentication Token');
    }
    if (target !== 'secretsmanager.GetSecretValue') {
      return awsError('UnknownOperationException', `The sandbox does not implement ${target}.`);
    }
    let input: unknown;
    try {
      input = JSON.parse(rawBody || '{}');
    } catch {
      return awsError('SerializationException', 'The request body is not valid JSON.');
    }
    const secretId = (input as { SecretId?: unknown }).SecretId;
    if (typeof secretId !== 'string' || secretId === '') {
      return awsError('InvalidParameterException', 'SecretId is required.');
    }
    const secret = this.find(secretId);
    if (secret === undefined) {
      return awsError(
        'ResourceNotFoundException',
        "Secrets Manager can't find the specified secret.",
      );
    }
    const region = /Credential=[^/]+\/[^/]+\/([^/]+)\//.exec(authorization)?.[1] ?? 'us-east-1';
    return {
      status: 200,
      headers: { 'content-type': AMZ_JSON },
      body: {
        ARN: `arn:aws:secretsmanager:${region}:${ACCOUNT_ID}:secret:${secret.name}-${secret.arnSuffix}`,
        Name: secret.name,
        VersionId: secret.versionId,
        SecretString: secret.secretString,
        VersionStages: ['AWSCURRENT'],
        CreatedDate: secret.createdDate,
      },
    };
  }
}
