/**
 * `POST /slack/commands` as a middy chain: metrics → Lambda context in the logs → the request
 * line → Slack answers for errors → header normalisation → body size limit → the service's
 * secret → Slack's signature on the raw bytes (401, no detail, before anything is parsed) → the
 * form body (`@middy/http-urlencode-body-parser`) → the payload checked with zod, its workspace
 * allowed and its `response_url` on an allowed origin → the command.
 */
import { problem, problemResponse } from '../http/problem.ts';
import { apiChain, declared, json, MAX_BODY_BYTES, type RouteDeclaration } from '../http/route.ts';
import { bodyLimit } from '../middleware/body-limit.ts';
import { formBody } from '../middleware/form-body.ts';
import { recordProblem } from '../middleware/problem-details.ts';
import { serviceSecret } from '../middleware/service-secret.ts';
import { signedBody } from '../middleware/signed-body.ts';
import type { ApiContext, ApiMiddleware, ApiRequest } from '../middleware/types.ts';
import { SlackAnswer, SlashCommand } from '../schemas/slack.ts';
import { failureMessage, refusalMessage, type SlackMessage } from './messages.ts';
import { isAllowedResponseUrl } from './response-url.ts';
import { slackSignatureScheme } from './signature.ts';

export { SlashCommand };

export interface SlackContext extends ApiContext {
  slack: SlashCommand;
  /** Set when the command is refused before it runs (an unknown workspace). */
  refusal?: SlackMessage;
}

/** The payload, its workspace, and where it wants the answer. */
function slackPayload(): ApiMiddleware {
  const slackPayloadBefore = (request: ApiRequest) => {
    const parsed = SlashCommand.safeParse(request.event.body);
    if (!parsed.success) {
      throw problem('validation-failed', 'The body is not a Slack slash command.');
    }
    const payload = parsed.data;
    if (!isAllowedResponseUrl(payload.response_url)) {
      throw problem('validation-failed', 'The response_url is not a Slack URL.');
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
    const problem = recordProblem(request);
    const { requestId } = request.context.record;
    if ((request.context as Partial<SlackContext>).slack === undefined) {
      request.response = problemResponse(problem, requestId);
      return;
    }
    request.response = json(200, failureMessage(problem.detail, requestId));
  };
  return { onError: slackErrorsOnError };
}

/** The Slack command's route: where Slack posts it (the rest is the same for every command route). */
export type SlackRouteSpec = Pick<RouteDeclaration, 'method' | 'path' | 'operation' | 'summary'>;

export function slackRoute(
  spec: SlackRouteSpec,
  operation: (
    payload: SlashCommand,
    context: SlackContext,
    /** When API Gateway got the request (ms since the epoch). */
    timeEpoch: unknown,
  ) => Promise<SlackMessage>,
) {
  const handler = apiChain(spec.operation, slackErrors())
    .use(bodyLimit({ maxBytes: MAX_BODY_BYTES }))
    .use(serviceSecret())
    .use(signedBody(slackSignatureScheme))
    .use(formBody())
    .use(slackPayload())
    .handler(async (event, context) => {
      const slackContext = context as SlackContext;
      return json(
        200,
        slackContext.refusal ??
          (await operation(slackContext.slack, slackContext, event.requestContext?.timeEpoch)),
      );
    });
  return declared(handler, {
    ...spec,
    auth: { signature: slackSignatureScheme },
    body: SlashCommand,
    bodyType: 'application/x-www-form-urlencoded',
    answer: {
      status: 200,
      description:
        'A Slack message, within 3 s; a longer command is acknowledged and its result posted to the response_url.',
      schema: SlackAnswer,
    },
    // After its signature, Slack's request is answered in Slack (a message, 200).
    errorStatuses: [400, 401, 413, 415],
  });
}
