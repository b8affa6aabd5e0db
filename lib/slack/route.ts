/**
 * `POST /slack/commands` as a middy chain: metrics → Lambda context in the logs → the request
 * line → Slack answers for errors → header normalisation → body size limit → the service's
 * secret → Slack's signature on the raw bytes (401, no detail, before anything is parsed) → the
 * form body (`@middy/http-urlencode-body-parser`) → the payload checked with zod, its workspace
 * allowed and its `response_url` on an allowed origin → the command.
 */
import httpUrlencodeBodyParser from '@middy/http-urlencode-body-parser';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { HttpProblem, problemOf, problemResponse } from '../http/problem.ts';
import { apiChain, json, MAX_BODY_BYTES } from '../http/route.ts';
import { bodyLimit } from '../middleware/body-limit.ts';
import { serviceSecret } from '../middleware/service-secret.ts';
import type { ApiContext, ApiMiddleware, ApiRequest } from '../middleware/types.ts';
import { SlashCommand } from '../schemas/slack.ts';
import { failureMessage, refusalMessage, type SlackMessage } from './messages.ts';
import { isAllowedResponseUrl } from './response-url.ts';
import { verifySlackSignature } from './signature.ts';

export { SlashCommand };

export interface SlackContext extends ApiContext {
  slack: SlashCommand;
  /** Set when the command is refused before it runs (an unknown workspace). */
  refusal?: SlackMessage;
}

/** One refusal for every way a request can fail to be Slack's: the reason goes to the log only. */
function notFromSlack(reason: string): HttpProblem {
  const problem = new HttpProblem({
    status: 401,
    kind: 'unauthorized',
    title: 'Unauthorized',
    detail: 'The request is not signed by Slack.',
  });
  (problem as HttpProblem & { reason?: string }).reason = reason;
  return problem;
}

function rawBytes(event: APIGatewayProxyEventV2): Buffer {
  const body = event.body ?? '';
  return event.isBase64Encoded ? Buffer.from(body, 'base64') : Buffer.from(body, 'utf8');
}

/** Slack's signature, checked on the bytes as sent, before the body is parsed. */
function slackSignature(): ApiMiddleware {
  const slackSignatureBefore = (request: ApiRequest) => {
    const { headers } = request.event;
    const verdict = verifySlackSignature({
      signingSecret: request.context.serviceSecret.slack?.signing_secret,
      timestamp: headers?.['x-slack-request-timestamp'],
      signature: headers?.['x-slack-signature'],
      rawBody: rawBytes(request.event),
      now: Date.now(),
    });
    if (!verdict.ok) throw notFromSlack(verdict.reason);
  };
  return { before: slackSignatureBefore };
}

/** The payload, its workspace, and where it wants the answer. */
function slackPayload(): ApiMiddleware {
  const slackPayloadBefore = (request: ApiRequest) => {
    const parsed = SlashCommand.safeParse(request.event.body);
    if (!parsed.success) {
      throw new HttpProblem({
        status: 400,
        kind: 'validation-failed',
        title: 'The request is not valid',
        detail: 'The body is not a Slack slash command.',
      });
    }
    const payload = parsed.data;
    if (!isAllowedResponseUrl(payload.response_url)) {
      throw new HttpProblem({
        status: 400,
        kind: 'validation-failed',
        title: 'The request is not valid',
        detail: 'The response_url is not a Slack URL.',
      });
    }
    const context = request.context as SlackContext;
    context.callerName = `slack:${payload.team_id}:${payload.user_id}`;
    context.slack = payload;
    if (!request.context.serviceSecret.slack?.team_ids.includes(payload.team_id)) {
      context.record.note = 'the workspace is not allowed';
      context.refusal = refusalMessage('This Slack workspace may not use this command.');
    }
  };
  return { before: slackPayloadBefore };
}

/**
 * Errors as answers: before the request is known to be Slack's, problem+json (401 without a
 * reason, 400, 413, 415); after, a message to the user in Slack (Slack shows nothing useful for a
 * failed HTTP status), with the request id for the operator.
 */
function slackErrors(): ApiMiddleware {
  const slackErrorsOnError = (request: ApiRequest) => {
    if (request.response !== undefined && request.response !== null) return;
    const problem = problemOf(request.error);
    const { record } = request.context;
    record.problem = problem;
    const reason = (request.error as { reason?: unknown } | null)?.reason;
    if (typeof reason === 'string') record.note = reason;
    if (problem.status >= 500) record.error = request.error;
    if ((request.context as Partial<SlackContext>).slack === undefined) {
      request.response = problemResponse(problem, record.requestId);
      return;
    }
    request.response = json(200, failureMessage(problem.detail, record.requestId));
  };
  return { onError: slackErrorsOnError };
}

export function slackRoute(
  spec: { operation: string },
  operation: (
    payload: SlashCommand,
    context: SlackContext,
    /** When API Gateway got the request (ms since the epoch). */
    timeEpoch: unknown,
  ) => Promise<SlackMessage>,
) {
  return apiChain(spec.operation, slackErrors())
    .use(bodyLimit({ maxBytes: MAX_BODY_BYTES }))
    .use(serviceSecret())
    .use(slackSignature())
    .use(httpUrlencodeBodyParser())
    .use(slackPayload())
    .handler(async (event, context) => {
      const slackContext = context as SlackContext;
      return json(
        200,
        slackContext.refusal ??
          (await operation(slackContext.slack, slackContext, event.requestContext?.timeEpoch)),
      );
    });
}
