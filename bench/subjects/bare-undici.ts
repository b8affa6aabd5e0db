/**
 * The warm baseline: one bare undici `request()` — the GET our get function makes, with the
 * sandbox's API key, and nothing else (no auth, no secret, no validation, no logs).
 */
import { request } from 'undici';

export const handler = async (event: { pathParameters: { id: string } }) => {
  const response = await request(
    `${process.env.NGROK_API_URL}/event_streams/${event.pathParameters.id}`,
    {
      headers: {
        authorization: `Bearer ${process.env.BENCH_NGROK_API_KEY}`,
        'ngrok-version': '2',
        accept: 'application/json',
      },
    },
  );
  return { statusCode: response.statusCode, body: await response.body.text() };
};
