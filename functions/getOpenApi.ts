/** GET /openapi.json → 200, the OpenAPI 3.1 document of this API (openapi.json). No token. */
import { httpRoute } from '../lib/http/route.ts';
import document from '../openapi.json' with { type: 'json' };

const body = JSON.stringify(document);

export const handler = httpRoute(
  {
    method: 'GET',
    path: '/openapi.json',
    operation: 'getOpenApi',
    summary: 'This document',
    auth: 'none',
    answer: {
      status: 200,
      description: 'The OpenAPI 3.1 document of this API.',
      jsonSchema: { type: 'object' },
    },
  },
  async () => ({
    statusCode: 200,
    headers: { 'Content-Type': 'application/json', 'Cache-Control': 'public, max-age=300' },
    body,
  }),
);
